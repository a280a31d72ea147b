"""DutyDesk benchmarks: `python -m bench [latency|throughput|deadlines|broadcast|coldstart|all]`."""

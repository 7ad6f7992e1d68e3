// Live-tensor counts and resident memory are process-wide readings, so test classes run one at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

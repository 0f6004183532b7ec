// The fleet tests time propagation and outages on a 2-core machine: one at a time, so that they measure the relay.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

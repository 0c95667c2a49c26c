"""metahebb: meta-learning biologically plausible (Hebbian, neuron-local) update rules."""

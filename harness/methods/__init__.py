"""Every prompt method of the installed peft: discovery, option strategies, wrapping, perturbation."""

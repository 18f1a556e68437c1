"""Running the property suite in one environment: plan, workers, verdicts, replay."""

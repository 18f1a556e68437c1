"""Architecture records, one module per family group; ``harness.archs.records`` indexes them."""

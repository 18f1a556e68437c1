"""The matrix of cells: versions, releases, profiles, slices, shards and the nightly job plan."""

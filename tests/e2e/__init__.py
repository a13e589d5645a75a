"""End-to-end tests: the real bot process driven through Microsoft's Agents Playground."""

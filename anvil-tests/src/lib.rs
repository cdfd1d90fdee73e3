//! End-to-end tests against anvil live in tests/.

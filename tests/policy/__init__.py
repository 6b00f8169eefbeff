"""Tests for pipeline.policy."""

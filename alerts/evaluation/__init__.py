"""Evaluate alert rules set-based: each rule is one SELECT of the subjects it holds true for,
and `engine.hits_apply` turns that set into opened, refreshed and resolved alerts."""

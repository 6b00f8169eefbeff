"""The data shapes every stage shares, and nothing else.

``resource``: ``ResourceId``, ``Origin``, ``Resource`` (a manifest body and where it came from);
``cluster``: ``Cluster`` and its ``Values``, as read from a cluster file;
``results``: ``Result`` and ``CheckResult``, conftest's result shapes, for every check;
``resourcelist``: ``ResourceList``, one cluster's resources and results through the flow.

Import the submodule you need: the records of ``netpack build`` are kept free of
dataclasses (start-up time), the others are not.
"""

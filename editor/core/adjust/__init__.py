"""Adjustment layers: parameter kinds (`kinds`), their pure numpy maths (`ops`), the layer (`layer`) and
the undoable document operations on them (`edits`)."""

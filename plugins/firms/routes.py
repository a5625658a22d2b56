"""placeholder"""
from __future__ import annotations


def make_blueprint(context):  # noqa: ANN001, ANN201
    from flask import Blueprint

    return Blueprint("firms", __name__)

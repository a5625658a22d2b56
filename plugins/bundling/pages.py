"""The bundling plugin's HTTP surface: the street workspace's bundling actions (/ws/street/proposals/…, /ws/street/plan).

JSON in, JSON out (CSRF token in X-CSRF-Token for browser sessions). Routes parse the request and call
`plugins.bundling.service`, the layer the CLI calls too; its errors (UnknownProposal 404, BundleDenied
403, MissingNote 400, other BundleErrors 409) are answered by the web shell in one place.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from geoplatform import models as m
from geoplatform import webshell

NOTE_MAX = 2000


def blueprint(context: Any) -> Blueprint:
    """The actions of the bundling tab (URLs under /ws/street, where the tab lives), its templates and script."""
    from geoplatform.errors import UserInputError
    from geoplatform.streets import resolve_street
    from plugins.bundling import service

    bp = Blueprint("ws_bundling", __name__, url_prefix="/ws/street", template_folder="templates",
                   static_folder="static", static_url_path="/bundling-static")

    def note(body: dict[str, Any], key: str) -> str | None:
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            return None
        value = (value or "").strip()
        return value[:NOTE_MAX] if value else None

    def proposal_street(session: Any, proposal_id: str) -> str:
        if len(proposal_id) > 64:
            raise service.UnknownProposal(f"unknown bundle proposal {proposal_id[:64]!r}")
        row = session.get(m.BundleProposal, proposal_id)
        street = row.street_code if row is not None else service.street_of_id(proposal_id)
        if street is None:
            raise service.UnknownProposal(f"unknown bundle proposal {proposal_id!r}")
        return street

    def vote(body: dict[str, Any], key: str) -> Any:
        """`key` as "T/P/Y" text, or from the form fields key_total, key_participating, key_yes (None if absent)."""
        if isinstance(body.get(key), str):
            return body[key][:100]
        parts = [body.get(f"{key}_{p}") for p in ("total", "participating", "yes")]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in parts):
            return None
        return ["" if v is None else str(v)[:30] for v in parts]

    def decide(proposal_id: str, verb: str, key: str) -> Response:
        body = webshell.json_body()
        text = note(body, key)
        action = "revert_bundle" if verb == "revert" else "decide_bundle"
        with context.session() as s:
            street = proposal_street(s, proposal_id)
            user = webshell.require(action, {"kind": "bundle", "id": proposal_id, "street_code": street})
            if text is None and verb == "reject":
                lang = webshell.lang()
                raise UserInputError("bundling.need_note", field=key,
                                     what=_text(f"bundling.note.{key}", lang))
            if verb == "accept":  # the vote as form fields; refused by the service exactly as on the CLI
                result = service.accept(context, s, user, proposal_id, consent_note=text,
                                        vote_area=vote(body, "vote_area"), vote_owners=vote(body, "vote_owners"))
            elif verb == "reject":
                result = service.reject(context, s, user, proposal_id, reason=text)
            else:
                result = service.revert(context, s, user, proposal_id, note=text)
        webshell.shell().refresh()
        return webshell.json_response(result)

    @bp.post("/proposals/<proposal_id>/accept")
    def accept(proposal_id: str) -> Response:
        """Accept a proposal of the caller's street with the owners' vote (vote_area_total/_participating/_yes,
        vote_owners_… or vote_area / vote_owners as "T/P/Y"; required, 民法典 §278) and a consent note (optional)."""
        return decide(proposal_id, "accept", "consent_note")

    @bp.post("/proposals/<proposal_id>/reject")
    def reject(proposal_id: str) -> Response:
        """Reject a proposal of the caller's street with a reason (required)."""
        return decide(proposal_id, "reject", "reason")

    @bp.post("/proposals/<proposal_id>/revert")
    def revert(proposal_id: str) -> Response:
        """Undo an accepted proposal exactly (admin; RULES §5), with the reason (`note`, required, audited)."""
        return decide(proposal_id, "revert", "note")

    @bp.post("/plan")
    def replan() -> Response:
        """Re-plan one street (the caller's own, or `street` for admin/bureau) and save it; decided proposals stay."""
        body = webshell.json_body()
        user = webshell.current_user()
        asked = body.get("street") if isinstance(body.get("street"), str) else None
        with context.session(readonly=True) as s:
            street = resolve_street(s, asked[:100]) if asked else (user.street_code if user is not None else None)
        if street is None:  # admin/bureau without `street`: the first street, as the workspace opens
            streets = webshell.shell().streets()
            street = streets[0]["code"] if streets else None
        if street is None:
            raise UserInputError("bundling.need_street", field="street")
        user = webshell.require("decide_bundle", {"kind": "bundle", "street_code": street})
        settings = service.settings_for(context)
        with context.session() as s:
            plan = service.compute_plan(s, settings, street)
            counts = service.save_plan(s, plan, user, street)
        return webshell.json_response({"street": street, **counts})

    return bp


def _text(key: str, lang: str) -> str:
    from geoplatform.i18n import t

    return t(key, lang)

"""Load OGC API – Features collections in headless QGIS (python3-qgis) with HTTP Basic auth; print what it saw.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/support/qgis_check.py URL USER TOKEN COLLECTION…

Prints one JSON object: {collection: {"valid", "count", "iterated", "invalid", "types", "error"}}. The
authentication is a QGIS "Basic" auth configuration (user name + API token), stored in a throwaway auth
database, exactly what a user sets up in QGIS's dialog (docs/gis.md). Runs with the system Python that
has QGIS (Debian: `apt-get install python3-qgis`), not the project's virtualenv.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile


def main(argv: list[str]) -> int:
    """Check every collection named; exit 0 when QGIS could open them all."""
    url, user, token, *names = argv
    home = tempfile.mkdtemp(prefix="qgis-check-")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["QGIS_AUTH_DB_DIR_PATH"] = home
    os.environ["HOME"] = home
    os.environ.setdefault("XDG_RUNTIME_DIR", home)
    from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsVectorLayer, QgsWkbTypes

    app = QgsApplication([], False)
    app.initQgis()
    manager = QgsApplication.authManager()
    manager.setMasterPassword("qgis-check-master", True)
    cfg = QgsAuthMethodConfig()
    cfg.setName("geoplatform")
    cfg.setMethod("Basic")
    cfg.setConfig("username", user)
    cfg.setConfig("password", token)
    manager.storeAuthenticationConfig(cfg)
    out: dict[str, dict] = {}
    for name in names:
        layer = QgsVectorLayer(f"url='{url}' typename='{name}' authcfg={cfg.id()}", name, "OAPIF")
        if not layer.isValid():
            out[name] = {"valid": False, "error": layer.error().summary()}
            continue
        iterated = invalid = 0
        types: set[str] = set()
        for feature in layer.getFeatures():
            iterated += 1
            geom = feature.geometry()
            if not geom.isNull():
                types.add(QgsWkbTypes.displayString(geom.wkbType()))
                invalid += not geom.isGeosValid()
        out[name] = {"valid": True, "count": layer.featureCount(), "iterated": iterated, "invalid": invalid,
                     "types": sorted(types)}
    print(json.dumps(out), flush=True)
    return 0 if all(v["valid"] for v in out.values()) else 1


if __name__ == "__main__":
    # os._exit: QGIS 3.22 may crash while tearing down a headless application; the answer is out already
    os._exit(main(sys.argv[1:]))

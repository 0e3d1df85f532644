"""Authentication evidence through the batch step and the doors (REST, CLI classify).

A small model is trained, as a site would train its own, on mail whose trusted
``Authentication-Results`` say DKIM passed for the ham and failed for the spam; a
door that verifies DKIM itself (against the loopback DNS) then shows ``auth:`` clues.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mailauth.conftest import Signer, make_message
from mailauth.loopback_dns import LoopbackDns
from spamsift.cli import app as cli_app
from spamsift.config import load_settings
from spamsift.features.batch import featurize
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.mailauth import Authenticator
from spamsift.models.persistence import save_model
from spamsift.models.spam_model import SpamModel
from spamsift.serving.api import InMemoryKeys, create_app
from spamsift.serving.model_holder import ModelHolder
from spamsift.training.trainer import TrainOptions, fit_model

TRUSTED = "mx.site.example"


def with_results(raw: bytes, dkim: str) -> bytes:
    return (f"Authentication-Results: {TRUSTED}; dkim={dkim} header.d=example.org\n"
            .encode() + raw)


@pytest.fixture(scope="module")
def auth_model(mail_factory: Callable[..., list[tuple[bytes, str]]]) -> SpamModel:
    mail = mail_factory(40, 40, seed=3)
    datas = [with_results(d, "pass" if label == "ham" else "fail") for d, label in mail]
    y = np.array([int(label == "spam") for _, label in mail])
    featurizer = MessageFeaturizer(token_bits=16, reputation_bits=10)
    X, _ = featurize(featurizer, datas, n_jobs=1, auth=Authenticator([TRUSTED]))
    model, _ = fit_model(featurizer, X, y, load_settings(target_fpr=0.01, unsure_fpr=0.1),
                         TrainOptions(learning_curve=False, params={"model": "nb+svm"}))
    return model


def test_batch_step_tokens_only_with_an_authenticator(mail_factory: Callable[..., list]
                                                      ) -> None:
    raw = with_results(mail_factory(1, 0)[0][0], "fail")
    f = MessageFeaturizer(token_bits=16, reputation_bits=10)
    col = f.token_index(["auth:dkim=fail"])["auth:dkim=fail"]
    plain, _ = featurize(f, [raw], n_jobs=1)
    trusted, _ = featurize(f, [raw], n_jobs=1, auth=Authenticator([TRUSTED]))
    untrusted, _ = featurize(f, [raw], n_jobs=1, auth=Authenticator(["other.example"]))
    assert plain[0, col] == 0 and trusted[0, col] == 1 and untrusted[0, col] == 0
    ar = f.token_index(["auth:untrusted_ar"])["auth:untrusted_ar"]
    assert untrusted[0, ar] == 1 and plain[0, ar] == 0


def clue_names(clues: list[dict]) -> str:
    return " | ".join(c["clue"] for c in clues)


def test_rest_classify_shows_verified_dkim(auth_model: SpamModel, sign: Signer,
                                          dns: LoopbackDns) -> None:
    settings = load_settings(top_clues=40, dns_servers=dns.address,
                             trusted_authserv_ids=TRUSTED)
    app = create_app(ModelHolder.fixed(auth_model), keys=InMemoryKeys(), settings=settings)
    signed = sign(make_message())
    with TestClient(app) as client:
        good = client.post("/v1/classify", content=signed,
                           headers={"content-type": "message/rfc822"}).json()
        bad = client.post("/v1/classify", content=signed.replace(b"Lunch", b"Wire $900 for"),
                          headers={"content-type": "message/rfc822"}).json()
    assert "auth:dkim=pass" in clue_names(good["clues"])
    assert "auth:dkim=fail" in clue_names(bad["clues"])
    assert ("sel._domainkey.example.org", "TXT") in dns.queries
    assert good["score"] < bad["score"]


def test_cli_classify_shows_verified_dkim(auth_model: SpamModel, sign: Signer,
                                         dns: LoopbackDns, tmp_path: Path) -> None:
    model_dir = save_model(auth_model, tmp_path / "model")
    eml = tmp_path / "m.eml"
    eml.write_bytes(sign(make_message()).replace(b"Lunch", b"Wire $900 for"))
    result = CliRunner().invoke(cli_app, ["classify", "--json", "--top", "40", "--model",
                                          str(model_dir), str(eml)],
                                env={"SPAMSIFT_DNS_SERVERS": dns.address})
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert "auth:dkim=fail" in clue_names(out["clues"])


def test_cli_classify_without_verification_makes_no_lookup(
        auth_model: SpamModel, sign: Signer, dns: LoopbackDns, tmp_path: Path) -> None:
    model_dir = save_model(auth_model, tmp_path / "model")
    eml = tmp_path / "m.eml"
    eml.write_bytes(sign(make_message()))
    result = CliRunner().invoke(cli_app, ["classify", "--json", "--top", "40", "--model",
                                          str(model_dir), str(eml)],
                                env={"SPAMSIFT_DNS_SERVERS": dns.address,
                                     "SPAMSIFT_AUTH_VERIFY": "never"})
    assert result.exit_code == 0, result.output
    assert dns.queries == []
    assert "auth:" not in result.stdout

"""The encrypting payload codec: the TS codec's wire format, both ways, and config/env.ts's key settings."""

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from gpuflow.config import EnvError, load_env
from gpuflow.encryption import EncryptionCodec, EncryptionKey, parse_encryption_keys

FIXTURES = Path(__file__).parent / "fixtures"
K1 = EncryptionKey("k1", os.urandom(32))
K2 = EncryptionKey("k2", os.urandom(32))
converter = DataConverter.default.payload_converter


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def payload_of(wire: dict[str, Any]) -> Payload:
    """A payload in the JSON shape of the fixtures (and of Temporal's codec server): base64 metadata and data."""
    metadata = {name: base64.b64decode(value) for name, value in wire["metadata"].items()}
    return Payload(metadata=metadata, data=base64.b64decode(wire["data"]))


def ring_of(keys: str) -> list[EncryptionKey]:
    ring, problems = parse_encryption_keys({"GPUFLOW_ENCRYPTION_KEYS": keys})
    assert problems == [] and ring is not None
    return ring


async def test_decrypts_a_payload_the_typescript_codec_made() -> None:
    fixture = json.loads((FIXTURES / "ts-encrypted-payload.json").read_text())
    [decoded] = await EncryptionCodec(ring_of(fixture["keys"])).decode([payload_of(fixture["payload"])])
    assert decoded.metadata["encoding"] == b"json/plain"
    assert converter.from_payload(decoded) == fixture["value"]


async def test_the_committed_python_fixture_is_what_this_codec_writes() -> None:
    # test/unit/encryption-codec.test.ts decrypts this file with the TS codec: the other direction.
    fixture = json.loads((FIXTURES / "python-encrypted-payload.json").read_text())
    [decoded] = await EncryptionCodec(ring_of(fixture["keys"])).decode([payload_of(fixture["payload"])])
    assert converter.from_payload(decoded) == fixture["value"]


async def test_writes_the_documented_wire_format() -> None:
    original = converter.to_payload({"prompt": "a secret prompt"})
    [encrypted] = await EncryptionCodec([K1]).encode([original])
    assert encrypted.metadata["encoding"] == b"binary/encrypted"
    assert encrypted.metadata["encryption-key-id"] == b"k1"
    assert b"secret" not in encrypted.data
    # Decrypted by hand, as the TS codec does: nonce ‖ ciphertext ‖ tag over the protobuf Payload.
    plain = AESGCM(K1.key).decrypt(encrypted.data[:12], encrypted.data[12:], None)
    assert Payload.FromString(plain) == original
    [again] = await EncryptionCodec([K1]).encode([original])
    assert again.data[:12] != encrypted.data[:12]  # a fresh nonce per payload


async def test_reads_an_older_key_of_the_ring_and_passes_plain_payloads_through() -> None:
    [old] = await EncryptionCodec([K1]).encode([converter.to_payload("old")])
    plain = converter.to_payload("never encrypted")
    rotated = EncryptionCodec([K2, K1])
    decoded = await rotated.decode([old, plain])
    assert [converter.from_payload(p) for p in decoded] == ["old", "never encrypted"]
    [fresh] = await rotated.encode([plain])
    assert fresh.metadata["encryption-key-id"] == b"k2"


async def test_refuses_an_unknown_key_and_a_tampered_payload() -> None:
    [encrypted] = await EncryptionCodec([K1]).encode([converter.to_payload("x")])
    with pytest.raises(ValueError, match='key "k1"'):
        await EncryptionCodec([K2]).decode([encrypted])
    tampered = bytearray(encrypted.data)
    tampered[14] ^= 1
    with pytest.raises(ValueError, match="authentication"):
        await EncryptionCodec([K1]).decode([Payload(metadata=encrypted.metadata, data=bytes(tampered))])
    with pytest.raises(ValueError, match="too short"):
        await EncryptionCodec([K1]).decode([Payload(metadata=encrypted.metadata, data=b"short")])


def test_the_worker_env_parses_one_key_or_a_ring() -> None:
    single = load_env({"GPUFLOW_ENCRYPTION_KEY": f" {b64(K1.key)} "})
    assert single.encryption_keys == [EncryptionKey("default", K1.key)]
    assert isinstance(single.data_converter.payload_codec, EncryptionCodec)
    ring = load_env({"GPUFLOW_ENCRYPTION_KEYS": f"k2:{b64(K2.key)}, k1:{b64(K1.key)}"})
    assert [entry.id for entry in ring.encryption_keys or []] == ["k2", "k1"]
    unpadded = load_env({"GPUFLOW_ENCRYPTION_KEY": b64(K1.key).rstrip("=")})
    assert unpadded.encryption_keys == [EncryptionKey("default", K1.key)]
    for off in ({}, {"GPUFLOW_ENCRYPTION_KEY": ""}, {"GPUFLOW_ENCRYPTION_KEYS": " , "}):
        env = load_env(off)
        assert env.encryption_keys in (None, []) and env.data_converter.payload_codec is None


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        (
            {"GPUFLOW_ENCRYPTION_KEY": b64(os.urandom(16))},
            "GPUFLOW_ENCRYPTION_KEY: must be the base64 of 32 random bytes: openssl rand -base64 32",
        ),
        (
            {"GPUFLOW_ENCRYPTION_KEY": b64(os.urandom(32))[:-2] + "!="},
            "GPUFLOW_ENCRYPTION_KEY: must be the base64 of 32 random bytes: openssl rand -base64 32",
        ),
        (
            {"GPUFLOW_ENCRYPTION_KEYS": f"k1:{b64(K1.key)},k1:{b64(K2.key)}"},
            "GPUFLOW_ENCRYPTION_KEYS: each entry must be <id>:<key>, a unique id of A-Z a-z 0-9 . _ - and a key that "
            "must be the base64 of 32 random bytes: openssl rand -base64 32",
        ),
        ({"GPUFLOW_ENCRYPTION_KEYS": b64(K1.key)}, "GPUFLOW_ENCRYPTION_KEYS: each entry must be <id>:<key>"),
        ({"GPUFLOW_ENCRYPTION_KEYS": f"a b:{b64(K1.key)}"}, "GPUFLOW_ENCRYPTION_KEYS: each entry must be <id>:<key>"),
        (
            {"GPUFLOW_ENCRYPTION_KEY": b64(K1.key), "GPUFLOW_ENCRYPTION_KEYS": f"k2:{b64(K2.key)}"},
            "GPUFLOW_ENCRYPTION_KEYS: set GPUFLOW_ENCRYPTION_KEY or GPUFLOW_ENCRYPTION_KEYS, not both "
            '(the lone key is "default:<key>" in a ring)',
        ),
    ],
)
def test_bad_key_settings_fail_with_the_ts_messages(settings: dict[str, str], problem: str) -> None:
    with pytest.raises(EnvError) as caught:
        load_env(settings)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(problem)

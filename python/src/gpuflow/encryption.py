"""Payload encryption: the codec of ``storage/encryption-codec.ts``, byte for byte, and the key settings of
``config/env.ts`` (``GPUFLOW_ENCRYPTION_KEY``, ``GPUFLOW_ENCRYPTION_KEYS``) with the same error messages.

Wire format (protocol/PROTOCOL.md section 2): the original ``temporal.api.common.v1.Payload``, protobuf-encoded, is
the plaintext; ``data`` = 12-byte random nonce ‖ AES-256-GCM ciphertext ‖ 16-byte tag, no additional data; metadata
``encoding: binary/encrypted`` and ``encryption-key-id: <id>`` (both UTF-8).
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

ENCRYPTED_ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
ENCRYPTION_KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
#: The id a lone ``GPUFLOW_ENCRYPTION_KEY`` goes by; a ring that rotates it away lists it as ``default:<key>``.
DEFAULT_ENCRYPTION_KEY_ID = "default"

KEY_PROBLEM = "must be the base64 of 32 random bytes: openssl rand -base64 32"
RING_PROBLEM = f"each entry must be <id>:<key>, a unique id of A-Z a-z 0-9 . _ - and a key that {KEY_PROBLEM}"
BOTH_PROBLEM = (
    "set GPUFLOW_ENCRYPTION_KEY or GPUFLOW_ENCRYPTION_KEYS, not both "
    f'(the lone key is "{DEFAULT_ENCRYPTION_KEY_ID}:<key>" in a ring)'
)
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class EncryptionKey:
    """One AES-256 key of a ring: its id travels with each payload it encrypts."""

    id: str
    key: bytes


class EncryptionCodec(PayloadCodec):
    """Encrypts every payload with the first key of the ring and decrypts with whichever key its id names, so a
    rotation (a new key first, the old ones after it) still reads what the old keys wrote. Payloads that are not
    encrypted pass through decoding unchanged: jobs from before the key was set stay readable."""

    def __init__(self, keys: Sequence[EncryptionKey]) -> None:
        if not keys:
            raise ValueError("EncryptionCodec: at least one key")
        for entry in keys:
            if len(entry.key) != ENCRYPTION_KEY_BYTES:
                raise ValueError(
                    f'EncryptionCodec: key "{entry.id}" has {len(entry.key)} bytes, not {ENCRYPTION_KEY_BYTES}'
                )
        self._current = keys[0]
        self._by_id = {entry.id: AESGCM(entry.key) for entry in keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._by_id[self._current.id].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: self._current.id.encode("utf-8")},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCRYPTED_ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode("utf-8", errors="replace")
        cipher = self._by_id.get(key_id)
        if cipher is None:
            raise ValueError(f'payload encrypted with key "{key_id}", which is not in GPUFLOW_ENCRYPTION_KEYS')
        data = payload.data
        if len(data) < NONCE_BYTES + TAG_BYTES:
            raise ValueError("encrypted payload too short")
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], None)
        except InvalidTag as err:
            raise ValueError(f'encrypted payload (key "{key_id}") failed its authentication check') from err
        decoded = Payload()
        decoded.ParseFromString(plain)
        return decoded


def encryption_data_converter(keys: Sequence[EncryptionKey] | None) -> DataConverter:
    """The data converter of clients and workers: Temporal's default, with the codec when a ring is configured."""
    converter = DataConverter.default
    return dataclasses.replace(converter, payload_codec=EncryptionCodec(keys)) if keys else converter


def _aes_key(text: str) -> bytes | None:
    """Node's ``Buffer.from(text, 'base64')`` of a well-formed string, when it gives 32 bytes."""
    if not _BASE64.fullmatch(text):
        return None
    digits = text.rstrip("=")
    # 43 digits are 32 bytes (the last 2 bits unused); Node reads any padding, so only the digits count.
    if len(digits) * 6 // 8 != ENCRYPTION_KEY_BYTES:
        return None
    return base64.b64decode(digits + "=" * (-len(digits) % 4))


def parse_encryption_keys(env: Mapping[str, str]) -> tuple[list[EncryptionKey] | None, list[str]]:
    """The key ring of ``GPUFLOW_ENCRYPTION_KEYS`` or ``GPUFLOW_ENCRYPTION_KEY`` (None: no encryption), and the
    problems, worded as config/env.ts words them. ``env`` has no empty strings (they count as unset)."""
    problems: list[str] = []
    single: list[EncryptionKey] | None = None
    ring: list[EncryptionKey] | None = None
    raw_key = env.get("GPUFLOW_ENCRYPTION_KEY")
    if raw_key is not None:
        key = _aes_key(raw_key.strip())
        if key is None:
            problems.append(f"GPUFLOW_ENCRYPTION_KEY: {KEY_PROBLEM}")
        else:
            single = [EncryptionKey(DEFAULT_ENCRYPTION_KEY_ID, key)]
    raw_ring = env.get("GPUFLOW_ENCRYPTION_KEYS")
    if raw_ring is not None:
        ring = []
        for entry in (part.strip() for part in raw_ring.split(",")):
            if not entry:
                continue
            key_id, colon, encoded = entry.partition(":")
            key = _aes_key(encoded) if colon and key_id else None
            if not _KEY_ID.fullmatch(key_id) or key is None or any(known.id == key_id for known in ring):
                problems.append(f"GPUFLOW_ENCRYPTION_KEYS: {RING_PROBLEM}")
                ring = None
                break
            ring.append(EncryptionKey(key_id, key))
    # As on the TS side, the "not both" check runs once both settings parse.
    if not problems and raw_key is not None and raw_ring is not None:
        problems.append(f"GPUFLOW_ENCRYPTION_KEYS: {BOTH_PROBLEM}")
    if problems:
        return None, problems
    return (ring if ring is not None else single), problems

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jupyter_collab.errors import ProtocolError
from jupyter_collab.protocol import (
    AwarenessEntry,
    AwarenessMessage,
    EventMessage,
    QueryAwarenessMessage,
    SyncKind,
    SyncMessage,
    decode_awareness_update,
    decode_message,
    decode_state_vector,
    encode_auth_denied,
    encode_awareness,
    encode_awareness_update,
    encode_event,
    encode_query_awareness,
    encode_sync_step1,
    encode_sync_update,
    encode_var_uint,
    sync_update_payload,
)


def test_var_uint_matches_lib0_encoding():
    assert encode_var_uint(0) == b"\x00"
    assert encode_var_uint(127) == b"\x7f"
    assert encode_var_uint(300) == b"\xac\x02"


def test_sync_messages_round_trip():
    assert decode_message(encode_sync_step1(b"\x00")) == SyncMessage(SyncKind.STEP1, b"\x00")
    assert decode_message(encode_sync_update(b"\x01\x02")) == SyncMessage(
        SyncKind.UPDATE, b"\x01\x02"
    )


def test_event_strings_are_utf8_byte_counted():
    message = encode_event({"type": "note", "text": "é😀"})
    assert decode_message(message) == EventMessage({"type": "note", "text": "é😀"})


def test_awareness_update_round_trips_states_and_removals():
    entries = [AwarenessEntry(7, 3, {"cursor": 1}), AwarenessEntry(9, 2, None)]
    payload = encode_awareness_update(entries)
    assert decode_awareness_update(payload) == entries
    assert decode_message(encode_awareness(payload)) == AwarenessMessage(payload)


def test_query_awareness_has_no_payload():
    assert decode_message(encode_query_awareness()) == QueryAwarenessMessage()


@pytest.mark.parametrize(
    "data, why",
    [
        (b"", "truncated varint"),
        (b"\x00", "truncated varint"),
        (b"\x00\x02\x05ab", "runs past the end"),
        (b"\x00\x07\x00", "unknown sync message kind"),
        (b"\x09", "unknown message kind"),
        (b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80", "longer than 64 bits"),
        (encode_sync_update(b"\x00\x00") + b"x", "trailing bytes"),
        (b"\x04\x03abc", "not valid JSON"),
        (b"\x04\x02[]", "JSON object"),
        (encode_auth_denied("no"), None),
    ],
)
def test_malformed_messages_raise_protocol_error(data, why):
    if why is None:  # a well-formed auth message decodes; the room refuses it later
        decode_message(data)
        return
    with pytest.raises(ProtocolError, match=why):
        decode_message(data)


def test_state_vector_parse():
    assert decode_state_vector(b"\x02\x05\x03\x07\x01") == {5: 3, 7: 1}
    with pytest.raises(ProtocolError):
        decode_state_vector(b"\x02\x05")


@given(st.binary(max_size=200))
def test_decoding_arbitrary_bytes_returns_a_message_or_raises_protocol_error(data):
    try:
        decode_message(data)
    except ProtocolError:
        pass


@given(st.binary(max_size=200))
def test_decoding_arbitrary_awareness_payloads_never_raises_anything_else(data):
    try:
        decode_awareness_update(data)
    except ProtocolError:
        pass


@given(st.one_of(st.binary(max_size=140), st.binary(max_size=130).map(lambda b: b"\x00\x02" + b)))
def test_the_keystroke_fast_path_reads_exactly_what_decode_message_reads(data):
    """``sync_update_payload`` takes a message only if ``decode_message`` reads it as a
    sync update with the same payload; everything else is left to ``decode_message``."""
    payload = sync_update_payload(data)
    if payload is None:
        return
    message = decode_message(data)
    assert message == SyncMessage(SyncKind.UPDATE, payload)


@given(st.binary(min_size=1, max_size=127))
def test_the_fast_path_takes_every_short_sync_update(update):
    assert sync_update_payload(encode_sync_update(update)) == update

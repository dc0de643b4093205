"""Idempotency-Key on writes (API.md, Conventions): the same key and body
returns the first answer and writes once; another body is 422; a key in
use is 409; keys are per caller."""
import threading

from casework import client_body, make_org, unique
from servers import RedisClient, assert_problem


def new_key():
    return unique("key").replace(" ", "-")


def post(k, path, body, key, token):
    return k.post(path, json_body=body, token=token, headers={"Idempotency-Key": key})


def count_clients(k):
    with RedisClient(k.redis_port) as rc:
        return sum(int(rc.call("ZCARD", "korpu:{r:%s}:clients" % reg)) for reg in ("baku", "ganja"))


def test_a_retry_with_the_same_key_and_body_gets_the_first_answer(case_korpud):
    k = case_korpud
    body, key = client_body(), new_key()
    before = count_clients(k)
    first = post(k, "/api/v1/clients", body, key, k.staff.caseworker)
    assert first.status == 201, first.body
    again = post(k, "/api/v1/clients", body, key, k.staff.caseworker)
    assert again.status == 201 and again.body == first.body
    assert again.header("Idempotent-Replayed") == "true"
    assert first.header("Idempotent-Replayed") is None
    assert count_clients(k) == before + 1


def test_a_replayed_error_is_the_same_error(case_korpud):
    k = case_korpud
    body, key = client_body(birth_date="not a date"), new_key()
    first = post(k, "/api/v1/clients", body, key, k.staff.caseworker)
    assert_problem(first, 422)
    again = post(k, "/api/v1/clients", body, key, k.staff.caseworker)
    assert again.status == 422 and again.body == first.body


def test_the_same_key_with_another_body_is_422(case_korpud):
    k = case_korpud
    key = new_key()
    assert post(k, "/api/v1/clients", client_body(), key, k.staff.caseworker).status == 201
    r = post(k, "/api/v1/clients", client_body(), key, k.staff.caseworker)
    assert_problem(r, 422)
    assert r.body["errors"][0]["field"] == "Idempotency-Key"


def test_keys_belong_to_their_caller(case_korpud):
    k = case_korpud
    key = new_key()
    a = post(k, "/api/v1/clients", client_body(), key, k.staff.caseworker)
    b = post(k, "/api/v1/clients", client_body(), key, k.staff.caseworker2)
    assert a.status == 201 and b.status == 201 and a.body["id"] != b.body["id"]


def test_the_same_key_on_another_path_is_another_request(case_korpud):
    k = case_korpud
    key = new_key()
    body = {"name": unique("Org"), "kind": "ngo", "region": "baku"}
    assert post(k, "/api/v1/organizations", body, key, k.staff.admin).status == 201
    org = make_org(k)
    r = k.request("PUT", "/api/v1/organizations/%s/agreement" % org["id"],
                  json_body={"valid_from": "2026-01-01", "valid_to": "2027-01-01",
                             "areas": ["clinics"]},
                  token=k.staff.admin, headers={"Idempotency-Key": key})
    assert r.status == 200, r.body


def test_concurrent_requests_with_one_key_write_once(case_korpud):
    k = case_korpud
    body, key = client_body(), new_key()
    before = count_clients(k)
    results = []

    def one():
        results.append(post(k, "/api/v1/clients", body, key, k.staff.caseworker))
    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status for r in results)
    assert set(statuses) <= {201, 409}, statuses
    created = {r.body["id"] for r in results if r.status == 201}
    assert len(created) == 1, statuses
    assert count_clients(k) == before + 1


def test_a_bad_key_is_400(case_korpud):
    k = case_korpud
    for key in ("", "x" * 256, "with space"):
        r = post(k, "/api/v1/clients", client_body(), key, k.staff.caseworker)
        assert_problem(r, 400)


def test_a_replay_survives_a_korpud_restart(make_korpud):
    k = make_korpud(conf={"regions": ["baku", "ganja"]})
    token = k.sign_in("lmammadova")
    body, key = client_body(), new_key()
    first = k.post("/api/v1/clients", json_body=body, token=token,
                   headers={"Idempotency-Key": key})
    assert first.status == 201
    k.stop()
    k.start()
    k.wait_ready(200, timeout=10.0)
    again = k.post("/api/v1/clients", json_body=body, token=token,
                   headers={"Idempotency-Key": key})
    assert again.status == 201 and again.body == first.body

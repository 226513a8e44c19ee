from django.test import override_settings

from gridcare.testing import PASSWORD


def test_login_page_is_chinese(client, db):
    resp = client.get("/login/")
    body = resp.content.decode()
    assert resp.status_code == 200 and "登录" in body and 'lang="zh-hans"' in body


def test_login_and_logout(client, world):
    resp = client.post("/login/", {"username": "agent01", "password": PASSWORD})
    assert resp.status_code == 302
    assert "工作台" in client.get("/").content.decode()
    client.post("/logout/")
    assert client.get("/").status_code == 302


@override_settings(GRIDCARE_LOGIN_MAX_FAILURES=3)
def test_login_throttling_locks_even_the_right_password(client, world):
    for _ in range(3):
        resp = client.post("/login/", {"username": "agent01", "password": "wrong"})
        assert "用户名或密码错误" in resp.content.decode()
    resp = client.post("/login/", {"username": "agent01", "password": PASSWORD})
    assert resp.status_code == 200 and "登录失败次数过多" in resp.content.decode()


@override_settings(GRIDCARE_LOGIN_MAX_FAILURES=2)
def test_token_endpoint_is_throttled(client, world):
    url = "/api/auth/token"
    for _ in range(2):
        assert client.post(url, {"username": "agent01", "password": "x"}, content_type="application/json").status_code == 401
    resp = client.post(url, {"username": "agent01", "password": PASSWORD}, content_type="application/json")
    assert resp.status_code == 429


def test_token_roundtrip(client, world):
    resp = client.post("/api/auth/token", {"username": "agent01", "password": PASSWORD}, content_type="application/json")
    token = resp.json()["token"]
    me = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert me["role"] == "agent" and me["scope"] == "/P01/C01/"

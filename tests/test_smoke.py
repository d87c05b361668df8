from tests.factories import AdminFactory, UserFactory


def test_login_and_home(client, auth):
    user = UserFactory()
    response = auth.login(user.username)
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert user.full_name in page.get_data(as_text=True)


def test_admin_sees_users(login):
    admin = AdminFactory()
    client = login(admin)
    assert client.get("/admin/pengguna").status_code == 200

"""The smoke journey: the sign-in form (saved as login.png), a
caseworker's sign-in to the Clients screen, and sign-out back to the form."""


def test_smoke(journey):
    journey("smoke")

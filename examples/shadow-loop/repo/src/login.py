def login(user: str) -> bool:
    return bool(user)

"""Who am I, users and their API tokens (admin; a user may manage their own tokens)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, status

from coalition.api.contract import check_nations
from coalition.api.deps import Context, Paging
from coalition.auth import service
from coalition.auth.rules import Marking
from coalition.auth.schemas import (
    IssuedToken,
    MeOut,
    TokenCreate,
    TokenOut,
    UserCreate,
    UserOut,
    UserPage,
)
from coalition.auth.scope import restrict
from coalition.errors import NotFoundError

router = APIRouter(prefix="/api", tags=["users"])


def UserNamePath() -> Any:  # a fresh FieldInfo per parameter
    return Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-@]*$", max_length=64)


def _user_marking(user: Any) -> Marking:
    # Accounts are visible to their own nation's admins and to HQ admins.
    return Marking(origin=user.nation, releasable_to=("HQ",))


@router.get("/me", summary="The authenticated user")
def me(ctx: Context) -> MeOut:
    p = ctx.principal
    return MeOut(id=p.user_id, name=p.name, nation=p.nation, roles=sorted(r.value for r in p.roles))


@router.get("/users", summary="List users (admin)")
def list_users(ctx: Context, paging: Paging) -> UserPage:
    scope = restrict(ctx.principal, "user.view", _user_marking)
    rows, _ = service.list_users(ctx.db, offset=0, limit=10_000)
    visible = [UserOut.model_validate(u).model_dump(mode="json") for u in scope.filter(rows)]
    return UserPage.model_validate(
        {
            "items": visible[paging.offset : paging.offset + paging.limit],
            "total": len(visible),
            "offset": paging.offset,
            "limit": paging.limit,
        }
    )


@router.post("/users", status_code=status.HTTP_201_CREATED, summary="Create a user (admin)")
def create_user(ctx: Context, body: UserCreate) -> UserOut:
    scope = restrict(ctx.principal, "user.add", _user_marking)
    from coalition.api.routers.common import current_scenario

    _sid, sc = current_scenario(ctx, None)  # nations of the service's default scenario, and HQ
    check_nations([body.nation], sc, field="nation", indexed=False)
    user = service.create_user(ctx.db, data=body)
    scope.verify_written(user, user.name)  # an admin of GBR may not create a French user
    out = UserOut.model_validate(user)
    ctx.audit("create", "user", user.name, after=out.model_dump(mode="json"))
    return out


@router.get("/users/{name}", summary="One user (admin)")
def get_user(ctx: Context, name: str = UserNamePath()) -> UserOut:
    scope = restrict(ctx.principal, "user.view", _user_marking)
    try:
        user = service.get_user(ctx.db, name=name)
    except NotFoundError:  # unknown and out-of-scope look the same
        user = None
    return UserOut.model_validate(scope.check(user, name))


def _token_owner(ctx: Context, name: str, action: str) -> Any:
    """Users manage their own tokens; admins manage tokens of users in their scope."""
    if name == ctx.principal.name:
        return service.get_user(ctx.db, name=name)
    scope = restrict(ctx.principal, action, _user_marking)
    try:
        user = service.get_user(ctx.db, name=name)
    except NotFoundError:
        user = None
    return scope.check(user, name)


@router.get("/users/{name}/tokens", summary="A user's tokens (never the secrets)")
def list_tokens(ctx: Context, name: str = UserNamePath()) -> list[TokenOut]:
    user = _token_owner(ctx, name, "token.view")
    return [TokenOut.model_validate(t) for t in service.list_tokens(ctx.db, user=user)]


@router.post(
    "/users/{name}/tokens",
    status_code=status.HTTP_201_CREATED,
    summary="Issue a token; the secret is in this answer only",
)
def issue_token(ctx: Context, body: TokenCreate, name: str = UserNamePath()) -> IssuedToken:
    user = _token_owner(ctx, name, "token.add")
    token, secret = service.mint_token(
        ctx.db,
        by=ctx.principal,
        user=user,
        days=body.days,
        label=body.label,
        roles=[r.value for r in body.roles] if body.roles is not None else None,
    )
    meta = TokenOut.model_validate(token)
    ctx.audit("issue-token", "user", user.name, after=meta.model_dump(mode="json"))
    return IssuedToken(**meta.model_dump(), token=secret, user=user.name)


@router.post("/users/{name}/tokens/{token_id}/revoke", summary="Revoke a token")
def revoke_token(ctx: Context, token_id: int = Path(ge=1, le=2**31 - 1), name: str = UserNamePath()) -> TokenOut:
    user = _token_owner(ctx, name, "token.change")
    token = service.revoke_token(ctx.db, user=user, token_id=token_id)
    out = TokenOut.model_validate(token)
    ctx.audit(
        "revoke-token", "user", user.name, after=out.model_dump(mode="json"), note="revokes every token minted from it"
    )
    return out

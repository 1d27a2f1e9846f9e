"""RenderPostFunction's logic: one S3 change in, the post's page and table state out.

The order is: decide (stale? bad input?) -> one conditional table transaction -> write the
post page -> re-read the record and repair the page if a newer version committed meanwhile.
The transaction's condition on the stored sequencer is what makes duplicate and
out-of-order events harmless (docs/design.md, invariant 4); the re-read makes concurrent
renders of one key converge (invariant 5).

``post_link``/``post_path`` targets resolve through the table's post names, read once per
publish (``PostTable.resolve_names``); the transaction checks that each still resolves as
the page was rendered with, and keeps the reverse links by which the index builder finds the
post again when a target changes (docs/design.md, "Links between posts").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from blogpub import dates, keys
from blogpub.config import Deployment
from blogpub.errors import (
    KeyTooLongError,
    NameConflictError,
    PermalinkError,
    PostError,
    TooLargeError,
    TransientError,
    UrlConflictError,
)
from blogpub.events import S3Change
from blogpub.models import Page, Post, object_key_for
from blogpub.settings import Settings
from blogpub.site import SiteBucket
from blogpub.sources import KeyKind, asset_folder_posts, classify, is_post_key
from blogpub.table import (
    ACTIVITY_TTL_SECONDS,
    FAILURE_TTL_SECONDS,
    MAX_LINKED_POSTS,
    MAX_STORED_BODY_BYTES,
    ConcurrentChangeError,
    EventRecord,
    LinkSeen,
    NameTakenError,
    PostRecord,
    PostTable,
    UrlTakenError,
)
from blogpub.tags import ResolvedPost

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from blogpub.render import Renderer
    from blogpub.tags import ResolvedPost

MAX_OBJECT_KEY_BYTES = 1024  # S3's limit, for the page a post URL becomes
ResultOutcome = Literal[
    "published", "unpublished", "deleted", "rejected", "stale", "ignored", "settings"
]
MAX_ATTEMPTS = 6
MAX_RECONCILE_ROUNDS = 5


@dataclass
class PublishResult:
    key: str
    version_id: str | None
    outcome: ResultOutcome
    url: str | None = None
    error: str | None = None
    reason: str | None = None
    pages_written: list[str] = field(default_factory=list)
    pages_deleted: list[str] = field(default_factory=list)
    pending_links: list[str] = field(default_factory=list)  # names no published post owns yet
    record: PostRecord | None = field(default=None, repr=False)  # what this publish committed

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "version_id": self.version_id,
            "outcome": self.outcome,
            "url": self.url,
            "error": self.error,
            "reason": self.reason,
            "pages_written": self.pages_written,
            "pages_deleted": self.pages_deleted,
            "pending_links": self.pending_links,
        }


def _is_stale(change: S3Change, stored_sequencer: str) -> bool:
    """Older events are dropped; a repeated one too, unless a rebuild forces a re-render.

    A forced change carries the sequencer its sender read, so once a newer version has
    committed the forced re-render of the older one is dropped like any stale event.
    """
    if change.sequencer == stored_sequencer:
        return not change.force
    return change.sequencer < stored_sequencer


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Publisher:
    s3: S3Client
    table: PostTable
    site: SiteBucket
    deployment: Deployment
    settings: Settings
    renderer: Renderer
    clock: Callable[[], datetime] = _now

    def kind_of(self, key: str) -> KeyKind:
        """What a source key is for this deployment and site (``sources.classify``)."""
        return classify(
            key,
            self.deployment.posts_prefix,
            config_key=self.deployment.config_key,
            post_asset_folder=self.settings.post_asset_folder,
        )

    def publish(self, change: S3Change) -> PublishResult:
        kind = self.kind_of(change.key)
        if kind is KeyKind.CONFIG:
            return PublishResult(change.key, change.version_id, "settings")
        if not kind.published:
            return PublishResult(change.key, change.version_id, "ignored")
        for _ in range(MAX_ATTEMPTS):
            old = self.table.get_post(change.key)
            if old is not None and _is_stale(change, old.sequencer):
                stale = PublishResult(change.key, change.version_id, "stale", url=old.url)
                if change.sequencer == old.sequencer:
                    self._finish_page(old, stale)
                    if kind is KeyKind.POST:
                        self._place_post_assets(change.key, stale)
                return stale
            try:
                result = self._apply(change, old)
            except ConcurrentChangeError:
                continue  # another event for this key committed first: decide again
            moved = _placement(old) != _placement_after(result)
            if kind is KeyKind.POST and (moved or _asset_refs(result)):
                self._settle_post_folder(change.key, result, moved)
            elif kind is KeyKind.POST_ASSET:
                owner = self._settle_post_asset(change, result)
                self._rerender_for_asset(change, owner, result)
            return result
        raise TransientError(f"{change.key}: gave up after {MAX_ATTEMPTS} concurrent changes")

    # -- post asset folders ----------------------------------------------------------------
    def _settle_post_folder(self, post_key: str, result: PublishResult, moved: bool) -> None:
        """After a post's commit, one listing of its folder: its assets follow a post that
        appeared, moved or went, and a post whose asset tags saw another folder than the one
        there now (an asset came or went while it rendered) is rendered again."""
        if not self.settings.post_asset_folder:
            return
        from blogpub.assets import post_asset_keys
        from blogpub.sources import asset_folder_of

        bucket, prefix = self.deployment.source_bucket, self.deployment.posts_prefix
        asset_keys = post_asset_keys(self.s3, bucket, post_key, prefix)
        if moved:
            self._place_post_assets(post_key, result, asset_keys)
        record = result.record
        if record is None or record.status != "published" or not record.asset_refs:
            return
        names = {key.removeprefix(asset_folder_of(post_key)) for key in asset_keys}
        if set(record.assets_found) != names.intersection(record.asset_refs):
            self._rerender(record, result)

    def _rerender_for_asset(
        self, change: S3Change, owner: PostRecord | None, result: PublishResult
    ) -> None:
        """An asset came or went: its post is rendered again if an asset tag of it names the
        file and the post was rendered with the folder as it was before."""
        if owner is None or owner.status != "published" or not owner.asset_refs:
            return
        from blogpub.sources import asset_folder_of

        name = change.key.removeprefix(asset_folder_of(owner.source_key))
        if name in owner.asset_refs and (name in owner.assets_found) != (change.kind == "put"):
            self._rerender(owner, result)

    def _rerender(self, record: PostRecord, result: PublishResult) -> None:
        """The published version of a post rendered again (dropped as stale if a newer one
        committed meanwhile: that one's own publish settles it)."""
        bucket, key = self.deployment.source_bucket, record.source_key
        placed = self.publish(
            S3Change(bucket, key, "put", record.version_id, record.sequencer, force=True)
        )
        result.pages_written.extend(placed.pages_written)
        result.pages_deleted.extend(placed.pages_deleted)

    def _place_post_assets(
        self, post_key: str, result: PublishResult, asset_keys: list[str] | None = None
    ) -> None:
        """A post appeared, moved or went: its folder's assets follow it. Events arrive in
        any order, so an asset seen before its post waits (unpublished) until this runs."""
        if not self.settings.post_asset_folder:
            return
        from blogpub.assets import post_asset_keys

        bucket, prefix = self.deployment.source_bucket, self.deployment.posts_prefix
        if asset_keys is None:
            asset_keys = post_asset_keys(self.s3, bucket, post_key, prefix)
        for key, record in sorted(self.table.get_posts(asset_keys).items()):
            if record.status not in ("published", "unpublished") or not record.version_id:
                continue  # deleted, or never placed: its own event decides
            again = S3Change(bucket, key, "put", record.version_id, record.sequencer, force=True)
            placed = self.publish(again)
            result.pages_written.extend(placed.pages_written)
            result.pages_deleted.extend(placed.pages_deleted)

    def _settle_post_asset(self, change: S3Change, result: PublishResult) -> PostRecord | None:
        """Re-place an asset whose post committed while the asset was decided: either this
        re-read sees the post, or the post's own placement saw this asset's record.
        Returns the asset's post as last read (None for an asset that is gone)."""
        for _ in range(MAX_RECONCILE_ROUNDS):
            latest = self.table.get_post(change.key)
            if latest is None or latest.status not in ("published", "unpublished"):
                return self._asset_owner(change.key) if change.kind != "put" else None
            owner = self._asset_owner(change.key)
            target = _post_asset_target(change.key, owner)
            if target == (latest.url if latest.status == "published" else None):
                return owner
            again = replace(
                change, version_id=latest.version_id, sequencer=latest.sequencer, force=True
            )
            try:
                placed = self._apply(again, latest)
            except ConcurrentChangeError:
                continue
            result.url, result.outcome = placed.url, placed.outcome
            result.pages_written.extend(placed.pages_written)
            result.pages_deleted.extend(placed.pages_deleted)
        raise TransientError(f"{change.key}: its post kept changing while it was placed")

    def _asset_owner(self, key: str) -> PostRecord | None:
        """The post whose asset folder holds ``key`` (the nearest post there), if any."""
        candidates = asset_folder_posts(key, self.deployment.posts_prefix)
        records = self.table.get_posts(candidates)
        for candidate in candidates:
            record = records.get(candidate)
            if record is not None and record.status in ("published", "unpublished"):
                return record
        return None

    # -- deciding -------------------------------------------------------------------------
    def _apply(self, change: S3Change, old: PostRecord | None) -> PublishResult:
        sequencer = max(change.sequencer, old.sequencer) if old else change.sequencer
        processed_at = dates.record_time(self.clock())
        base = PostRecord(
            source_key=change.key,
            sequencer=sequencer,
            version_id=change.version_id,
            last_version_id=change.version_id,
            processed_at=processed_at,
        )
        page: Page | None = None
        if change.kind != "put":
            if change.version_id and not self._version_exists(change.key, change.version_id):
                # A forged or mistaken event: its sequencer must not outrank real uploads.
                return PublishResult(change.key, change.version_id, "stale")
            new = replace(base, status="deleted", last_outcome="deleted")
        else:
            try:
                new, page = self._render_version(change, base)
            except PostError as error:
                return self._reject(change, old, sequencer, error.with_source(change.key))
            except _VersionGoneError:
                return PublishResult(change.key, change.version_id, "stale")
        new = replace(new, removed_url=_removed_url(old, new))
        try:
            self.table.commit(
                old, new, extra_items=[self._activity(new, processed_at, change.request_id)]
            )
        except UrlTakenError as taken:
            owner = self.table.url_owner(taken.url) or "another post"
            conflict = UrlConflictError(taken.url, owner, source=change.key)
            return self._reject(change, old, sequencer, conflict)
        except NameTakenError as taken:
            owner = self.table.name_owner(taken.name) or "another file"
            clash = NameConflictError(
                f"the post name {taken.name!r} (the file name without its extension, which "
                f"post_link and post_path use) belongs to {owner}; rename one of the files",
                source=change.key,
            )
            return self._reject(change, old, sequencer, clash)
        except PostError as error:  # items past DynamoDB's size limits, found before sending
            return self._reject(change, old, sequencer, error.with_source(change.key))
        result = PublishResult(
            change.key,
            change.version_id,
            new.last_outcome or "published",
            url=new.url,
            pending_links=list(new.pending_links),
            record=new,
        )
        self._sync_pages(old, new, page, result)
        return result

    def _render_version(self, change: S3Change, base: PostRecord) -> tuple[PostRecord, Page | None]:
        raw = self._read_source(change.key, change.version_id)
        return self.record_for(raw, base)

    def record_for(self, raw: bytes, base: PostRecord) -> tuple[PostRecord, Page | None]:
        """The record (and page) a source file's bytes produce; raises PostError."""
        from blogpub import urls
        from blogpub.reader import read_post

        kind = self.kind_of(base.source_key)
        if kind is not KeyKind.POST:
            return self._site_file_record(kind, raw, base)
        post = read_post(raw, base.source_key, self.settings, self.deployment.posts_prefix)
        if not post.published:
            return replace(base, status="unpublished", last_outcome="unpublished"), None
        links = self.resolve_links(post)
        asset_refs, assets = self._asset_folder(post)
        rendered = self.renderer.render_post(
            post, link_resolver(links, self.deployment.posts_prefix) if links else None, assets
        )
        _check_page_key(rendered.page.url)
        body = rendered.body_html
        record = replace(
            base,
            status="published",
            last_outcome="published",
            url=rendered.page.url,
            sort_key=dates.local_sort_key(post.date, self.settings.tz),
            lists=urls.lists_of(post, self.settings),
            entry=rendered.entry(),
            page_hash=rendered.page.content_hash,
            body_html=body if len(body.encode("utf-8")) <= MAX_STORED_BODY_BYTES else None,
            name=post.name,
            links=links,
            warnings=rendered.warnings,
            asset_refs=asset_refs,
            assets_found=tuple(name for name in asset_refs if assets and name in assets),
        )
        return record, rendered.page

    def _asset_folder(self, post: Post) -> tuple[tuple[str, ...], frozenset[str] | None]:
        """The names the post's asset tags may take, and its asset folder's files: one
        ListObjectsV2, only for a post with asset tags on a site with post asset folders."""
        if not self.settings.post_asset_folder or "{%" not in post.body:
            return (), None  # every tag starts "{%": a body without one loads no tag code
        from blogpub.tags.references import asset_references

        refs = asset_references(post.body)
        if not refs:
            return (), None
        from blogpub.assets import post_asset_names

        bucket, prefix = self.deployment.source_bucket, self.deployment.posts_prefix
        return refs, post_asset_names(self.s3, bucket, post.source_key, prefix)

    def resolve_links(self, post: Post) -> tuple[LinkSeen, ...]:
        """The posts ``post`` links to by name (the first MAX_LINKED_POSTS), each with the URL
        and title its name resolves to now: one BatchGetItem, none for a post without links."""
        from blogpub import urls

        names = linked_names(post.body, self.deployment.posts_prefix)[:MAX_LINKED_POSTS]
        if not names:
            return ()
        states = self.table.resolve_names([name for name in names if name != post.name])
        links = []
        for name in names:
            if name == post.name:  # itself: what this publish is about to claim
                links.append(LinkSeen(name, urls.post_url(post, self.settings), post.title))
                continue
            state = states.get(name)
            resolved = state is not None and state.owner is not None and state.url is not None
            links.append(
                LinkSeen(name, state.url, state.title) if resolved and state else LinkSeen(name)
            )
        return tuple(links)

    def _site_file_record(
        self, kind: KeyKind, raw: bytes, base: PostRecord
    ) -> tuple[PostRecord, Page | None]:
        """A page or an asset: one site object, its URL claimed like a post's, never listed."""
        from blogpub import urls
        from blogpub.assets import asset_page

        key = base.source_key
        in_sitemap = False
        if kind is KeyKind.PAGE:
            from blogpub.reader import read_page

            source = read_page(raw, key, self.settings)
            page = self.renderer.standalone_page(source)
            in_sitemap = source.layout  # `layout: false` files (verification files) stay out
        else:
            if kind is KeyKind.POST_ASSET:
                url = _post_asset_target(key, self._asset_owner(key))
                if url is None:  # its post is not (yet) published: placed when it is
                    return replace(base, status="unpublished", last_outcome="unpublished"), None
            else:
                url = urls.source_asset_url(key)
            page = asset_page(url, raw, key)
        problem = urls.reserved_problem(page.url)
        if problem:
            raise PermalinkError(problem, value=page.url)
        _check_page_key(page.url)
        record = replace(
            base,
            status="published",
            last_outcome="published",
            url=page.url,
            page_hash=page.content_hash,
            in_sitemap=in_sitemap,
        )
        return record, page

    def _read_source(self, key: str, version_id: str | None) -> bytes:
        request: dict[str, Any] = {"Bucket": self.deployment.source_bucket, "Key": key}
        if version_id:
            request["VersionId"] = version_id
        try:
            response = self.s3.get_object(**request)
        except self.s3.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchKey", "NoSuchVersion", "404", "InvalidArgument"}:
                raise _VersionGoneError(key) from error
            raise
        size = int(response.get("ContentLength", 0))
        is_asset = self.kind_of(key) in (KeyKind.ASSET, KeyKind.POST_ASSET)
        limit = self.deployment.max_asset_bytes if is_asset else self.deployment.max_post_bytes
        if size > limit:
            response["Body"].close()
            what = "MaxAssetBytes for one asset" if is_asset else "limit for one post"
            raise TooLargeError(f"{size} bytes is over the {limit}-byte {what}")
        data: bytes = response["Body"].read()
        return data

    def _version_exists(self, key: str, version_id: str) -> bool:
        """The version (a delete marker for a deletion) is in the source bucket.

        A put's version is read in full before its sequencer is taken (``_read_source``).
        """
        bucket = self.deployment.source_bucket
        try:
            self.s3.head_object(Bucket=bucket, Key=key, VersionId=version_id)
        except self.s3.exceptions.ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 405:  # S3's answer for a delete marker's version: it exists
                return True
            if status in (400, 404):
                return False
            raise
        return True

    def _reject(
        self, change: S3Change, old: PostRecord | None, sequencer: str, error: PostError
    ) -> PublishResult:
        at = dates.record_time(self.clock())
        base = old or PostRecord(source_key=change.key, sequencer="")
        new = replace(
            base,
            sequencer=sequencer,
            last_outcome="rejected",
            last_version_id=change.version_id,
            last_error=str(error),
            last_error_reason=error.reason,
            processed_at=at,
            # It waits for the URL: freeing it re-renders this key (indexes.rerender_waiters).
            waiting_for=error.url if isinstance(error, UrlConflictError) else None,
        )
        failure = EventRecord(
            at=at,
            source_key=change.key,
            version_id=change.version_id,
            reason=error.reason,
            error=str(error),
            request_id=change.request_id,
        ).to_values(keys.FAIL_PK, self._expiry(FAILURE_TTL_SECONDS))
        try:
            self.table.commit(
                old, new, extra_items=[failure, self._activity(new, at, change.request_id)]
            )
        except ConcurrentChangeError:
            raise  # publish() decides again against the newer record
        return PublishResult(
            change.key,
            change.version_id,
            "rejected",
            url=base.url if base.status == "published" else None,
            error=str(error),
            reason=error.reason,
        )

    def _activity(self, record: PostRecord, at: str, request_id: str) -> dict[str, Any]:
        return EventRecord(
            at=at,
            source_key=record.source_key,
            version_id=record.last_version_id,
            outcome=record.last_outcome,
            url=record.url if record.status == "published" else None,
            error=record.last_error if record.last_outcome == "rejected" else None,
            request_id=request_id or None,  # the S3 request that wrote this version
            warnings=record.warnings if record.last_outcome == "published" else (),
        ).to_values(keys.ACTIVITY_PK, self._expiry(ACTIVITY_TTL_SECONDS))

    def _expiry(self, seconds: int) -> int:
        return int(self.clock().timestamp()) + seconds

    # -- writing --------------------------------------------------------------------------
    def _sync_pages(
        self, old: PostRecord | None, new: PostRecord, page: Page | None, result: PublishResult
    ) -> None:
        if old is not None and old.status == "published" and old.url and old.url != new.url:
            self._remove_unclaimed(old.url, result)
        elif new.removed_url:
            self._remove_unclaimed(new.removed_url, result)
        record, current_page = new, page
        # No page of this post was at its URL before (a first publish, a new URL): write it
        # if still absent, without reading first.
        first = old is None or old.status != "published" or old.url != new.url
        for _ in range(MAX_RECONCILE_ROUNDS):
            url = record.url if record.status == "published" else None
            if url and self.site.sync(url, current_page, new=first) in ("created", "updated"):
                result.pages_written.append(url)
            first = False
            latest = self.table.get_post(record.source_key)
            # A forced re-render (a linked post changed) keeps the sequencer: compare the page too.
            if latest is None or (
                latest.sequencer == record.sequencer and latest.page_hash == record.page_hash
            ):
                return
            # A newer version committed while we wrote: make the page match it, not us.
            if record.url and record.url != latest.url:
                self._remove_unclaimed(record.url, result)
            record, current_page = latest, self._page_of(latest)
        raise TransientError(f"{new.source_key}: the page kept changing while it was written")

    def _finish_page(self, record: PostRecord, result: PublishResult) -> None:
        """A repeat of the event that committed ``record``: Lambda retries an event whose page
        write failed after its transaction (or whose commit answer was lost), so the page the
        table promises is checked, and written when it is missing or not that version's; or,
        for a delete or unpublish, removed when it is still there."""
        if record.status != "published" and record.removed_url:
            if self.site.stored_hash(record.removed_url) is not None:
                self._remove_unclaimed(record.removed_url, result)
            return
        if record.status != "published" or not record.url or not record.page_hash:
            return
        if self.site.stored_hash(record.url) != record.page_hash:
            self._sync_pages(None, record, self._page_of(record), result)

    def _page_of(self, record: PostRecord) -> Page | None:
        if record.status != "published" or not record.version_id:
            return None
        raw = self._read_source(record.source_key, record.version_id)
        _, page = self.record_for(raw, record)
        return page

    def _remove_unclaimed(self, url: str, result: PublishResult) -> None:
        if self.table.url_owner(url) is None and self.site.sync(url, None) == "deleted":
            result.pages_deleted.append(url)


def link_name(target: str, posts_prefix: str) -> str:
    """The post name a ``post_link``/``post_path`` target means: Hexo's slug as written, or
    a post's full source key, which names the same post."""
    if is_post_key(target, posts_prefix):
        from blogpub.reader import post_name

        try:
            return post_name(target, posts_prefix)
        except PostError:
            return target  # no post can have that key: the name stays pending
    return target


def linked_names(body: str, posts_prefix: str) -> tuple[str, ...]:
    """The post names a body's ``post_link``/``post_path`` tags target, each once, in body
    order (no tag scan for a body without them), found by the tokenizer without expanding
    any tag. A target longer than any source key names no post and is left out, so it never
    makes a table key past DynamoDB's limits."""
    if "{%" not in body:
        return ()  # every tag starts "{%": a body without one loads no tag code
    from blogpub.tags.references import linked_targets

    targets = linked_targets(body)
    names = (link_name(target, posts_prefix) for target in targets)
    return tuple(
        dict.fromkeys(
            name for name in names if len(name.encode("utf-8")) <= keys.MAX_SOURCE_KEY_BYTES
        )
    )


def link_resolver(
    links: Sequence[LinkSeen], posts_prefix: str
) -> Callable[[str], ResolvedPost | None]:
    """``TagContext.resolve_post`` from what ``Publisher.resolve_links`` read; a name past
    the bound resolves to nothing, like a pending one, whatever the upload order."""
    from blogpub.tags import ResolvedPost

    by_name = {link.target: link for link in links}

    def resolve(target: str) -> ResolvedPost | None:
        link = by_name.get(link_name(target, posts_prefix))
        if link is None or link.url is None:
            return None
        return ResolvedPost(link.title or "", link.url)

    return resolve


def _asset_refs(result: PublishResult) -> tuple[str, ...]:
    """The asset names the post a publish committed names in its asset tags."""
    return result.record.asset_refs if result.record is not None else ()


def _placement(old: PostRecord | None) -> str | None:
    """Where a post was published (None: not on the site); its assets move when it changes."""
    return old.url if old is not None and old.status == "published" else None


def _placement_after(result: PublishResult) -> str | None:
    """Where a post is published after a publish (a rejected version keeps the old page)."""
    return result.url if result.outcome in ("published", "rejected") else None


def _post_asset_target(key: str, owner: PostRecord | None) -> str | None:
    """Where a post asset belongs: below its post's URL while the post is published."""
    from blogpub import urls
    from blogpub.sources import asset_folder_of

    if owner is None or owner.status != "published" or not owner.url:
        return None
    return urls.post_asset_url(owner.url, key.removeprefix(asset_folder_of(owner.source_key)))


def _check_page_key(url: str) -> None:
    page_key = object_key_for(url)
    if len(page_key.encode("utf-8")) > MAX_OBJECT_KEY_BYTES:
        raise KeyTooLongError(
            f"the page key would be {len(page_key.encode('utf-8'))} bytes; "
            f"S3 allows {MAX_OBJECT_KEY_BYTES} (shorten the permalink or file name)",
            value=url,
        )


def _removed_url(old: PostRecord | None, new: PostRecord) -> str | None:
    """The URL a post that is not published (any more) had its page at, carried until a
    version is published again."""
    if new.status == "published" or old is None:
        return None
    if old.status == "published":
        return old.url
    return old.removed_url


class _VersionGoneError(Exception):
    """The version an event names no longer exists (deleted for good since)."""

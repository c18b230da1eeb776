"""The `nexmark` connector: the Nexmark benchmark's event generator.

Event n (0-based) is a person, an auction or a bid by n mod 50 (1:3:46); its
time is base + n * gap. Persons and auctions get increasing ids; auctions pick
hot or recent sellers, bids hot or recent auctions and bidders, as the standard
generator does. Every value of event n comes from a hash-seeded generator of
n, so the same options always give the same events, and a split's position is
just its next event number. Split i of k generates events i, i + k, ...
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any

from executor.connectors.base import (Connector, ConnectorReader, SourceSpec, bad_option,
                                      int_option, mix64, my_splits, register)
from planner import types as T

PERSON_PROPORTION, AUCTION_PROPORTION, BID_PROPORTION = 1, 3, 46
TOTAL_PROPORTION = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION
FIRST_PERSON_ID = FIRST_AUCTION_ID = 1000
FIRST_CATEGORY_ID, NUM_CATEGORIES = 10, 5
NUM_ACTIVE_PEOPLE, PERSON_ID_LEAD = 1000, 10
IN_FLIGHT_AUCTIONS, AUCTION_ID_LEAD = 100, 10
HOT_SELLER_RATIO = HOT_AUCTION_RATIO = HOT_BIDDER_RATIO = 100
HOT_SELLERS, HOT_AUCTIONS, HOT_BIDDERS = 4, 2, 4

FIRST_NAMES = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah",
               "Deiter", "Walter"]
LAST_NAMES = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones",
              "Noris"]
US_STATES = ["AZ", "CA", "ID", "OR", "WA", "WY"]
US_CITIES = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond",
             "Seattle", "Kent", "Cheyenne"]
HOT_CHANNELS = ["Google", "Facebook", "Baidu", "Apple"]
HOT_URLS = [f"https://www.nexmark.com/{c.lower()}/item.htm?query=1" for c in HOT_CHANNELS]

TS = T.TIMESTAMP
SCHEMAS: dict[str, list[tuple[str, T.DataType]]] = {
    "person": [("id", T.INT64), ("name", T.VARCHAR), ("email_address", T.VARCHAR),
               ("credit_card", T.VARCHAR), ("city", T.VARCHAR), ("state", T.VARCHAR),
               ("date_time", TS), ("extra", T.VARCHAR)],
    "auction": [("id", T.INT64), ("item_name", T.VARCHAR), ("description", T.VARCHAR),
                ("initial_bid", T.INT64), ("reserve", T.INT64), ("date_time", TS),
                ("expires", TS), ("seller", T.INT64), ("category", T.INT64),
                ("extra", T.VARCHAR)],
    "bid": [("auction", T.INT64), ("bidder", T.INT64), ("price", T.INT64),
            ("channel", T.VARCHAR), ("url", T.VARCHAR), ("date_time", TS),
            ("extra", T.VARCHAR)],
}
# Event offsets (n mod 50) of each table type.
OFFSETS = {"person": range(0, PERSON_PROPORTION),
           "auction": range(PERSON_PROPORTION, PERSON_PROPORTION + AUCTION_PROPORTION),
           "bid": range(PERSON_PROPORTION + AUCTION_PROPORTION, TOTAL_PROPORTION)}

# Text is cut from one fixed pseudo-random pool: cheap and deterministic.
_POOL = "".join("abcdefghijklmnopqrstuvwxyz     "[mix64(i) % 31] for i in range(8192))
_EPOCH = dt.datetime(1970, 1, 1)


class _Rng:
    __slots__ = ("s",)

    def __init__(self, seed: int) -> None:
        self.s = mix64(seed * 0x2545F4914F6CDD1D + 1)

    def next_int(self, n: int) -> int:
        self.s = mix64(self.s)
        return self.s % n if n > 0 else 0

    def next_double(self) -> float:
        self.s = mix64(self.s)
        return (self.s >> 11) / 9007199254740992.0

    def string(self, max_len: int) -> str:
        n = 3 + self.next_int(max_len - 3)
        off = self.next_int(len(_POOL) - n)
        return _POOL[off:off + n].strip() or "x"

    def extra(self, size: int) -> str:
        delta = round(size * 0.2)
        n = size - delta + self.next_int(2 * delta + 1)
        off = self.next_int(len(_POOL) - n)
        return _POOL[off:off + n]

    def price(self) -> int:
        return round(10.0 ** (self.next_double() * 6.0) * 100.0)


def last_base0_person_id(n: int) -> int:
    epoch, offset = divmod(n, TOTAL_PROPORTION)
    if offset >= PERSON_PROPORTION:
        offset = PERSON_PROPORTION - 1
    return epoch * PERSON_PROPORTION + offset


def last_base0_auction_id(n: int) -> int:
    epoch, offset = divmod(n, TOTAL_PROPORTION)
    if offset < PERSON_PROPORTION:
        epoch -= 1
        offset = AUCTION_PROPORTION - 1
    elif offset >= PERSON_PROPORTION + AUCTION_PROPORTION:
        offset = AUCTION_PROPORTION - 1
    else:
        offset -= PERSON_PROPORTION
    return epoch * AUCTION_PROPORTION + offset


def _next_base0_person_id(n: int, rng: _Rng) -> int:
    num_people = last_base0_person_id(n) + 1
    active = min(num_people, NUM_ACTIVE_PEOPLE)
    return num_people - active + rng.next_int(active + PERSON_ID_LEAD)


class EventGenerator:
    """Rows of one table type for given event numbers. With `needed` (column names),
    the trailing random values nobody reads are not generated (None in their place):
    a value's randomness comes after the values before it, so only the tail can go."""

    def __init__(self, table: str, base_us: int, gap_ns: int,
                 needed: list[str] | None = None) -> None:
        self.table = table
        self.base_us = base_us
        self.gap_ns = gap_ns
        self.make = {"person": self.person, "auction": self.auction, "bid": self.bid}[table]
        want = set(n for n, _ in SCHEMAS[table]) if needed is None else set(needed)
        self.extra = "extra" in want
        self.channel = bool(want & {"channel", "url", "extra"})  # bids: channel and url

    def when(self, n: int) -> dt.datetime:
        return _EPOCH + dt.timedelta(microseconds=self.base_us + n * self.gap_ns // 1000)

    def person(self, n: int) -> tuple:
        rng = _Rng(n)
        pid = last_base0_person_id(n) + FIRST_PERSON_ID
        name = f"{FIRST_NAMES[rng.next_int(len(FIRST_NAMES))]} " \
               f"{LAST_NAMES[rng.next_int(len(LAST_NAMES))]}"
        email = f"{rng.string(7)}@{rng.string(5)}.com"
        card = " ".join(f"{rng.next_int(10000):04d}" for _ in range(4))
        city = US_CITIES[rng.next_int(len(US_CITIES))]
        state = US_STATES[rng.next_int(len(US_STATES))]
        return (pid, name, email, card, city, state, self.when(n),
                rng.extra(200 - 80) if self.extra else None)

    def auction(self, n: int) -> tuple:
        rng = _Rng(n)
        aid = last_base0_auction_id(n) + FIRST_AUCTION_ID
        if rng.next_int(HOT_SELLERS) > 0:
            seller = (last_base0_person_id(n) // HOT_SELLER_RATIO) * HOT_SELLER_RATIO
        else:
            seller = _next_base0_person_id(n, rng)
        seller += FIRST_PERSON_ID
        category = FIRST_CATEGORY_ID + rng.next_int(NUM_CATEGORIES)
        initial = rng.price()
        ts = self.when(n)
        horizon_us = (IN_FLIGHT_AUCTIONS * TOTAL_PROPORTION // AUCTION_PROPORTION) \
            * self.gap_ns // 1000
        expires = ts + dt.timedelta(microseconds=1000 + rng.next_int(max(horizon_us * 2, 1)))
        reserve = initial + rng.price()
        item = rng.string(20)
        desc = rng.string(100)
        return (aid, item, desc, initial, reserve, ts, expires, seller, category,
                rng.extra(500 - 200) if self.extra else None)

    def bid(self, n: int) -> tuple:
        rng = _Rng(n)
        last = last_base0_auction_id(n)
        if rng.next_int(HOT_AUCTIONS) > 0:
            auction = (last // HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO
        else:
            lo = max(last - IN_FLIGHT_AUCTIONS, 0)
            auction = lo + rng.next_int(last - lo + 1 + AUCTION_ID_LEAD)
        auction += FIRST_AUCTION_ID
        if rng.next_int(HOT_BIDDERS) > 0:
            bidder = (last_base0_person_id(n) // HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1
        else:
            bidder = _next_base0_person_id(n, rng)
        bidder += FIRST_PERSON_ID
        price = rng.price()
        if not self.channel:
            return (auction, bidder, price, None, None, self.when(n), None)
        if rng.next_int(2) > 0:
            i = rng.next_int(len(HOT_CHANNELS))
            channel, url = HOT_CHANNELS[i], HOT_URLS[i]
        else:
            c = rng.next_int(10000)
            channel = f"channel-{c}"
            url = f"https://www.nexmark.com/{rng.string(5)}/{rng.string(5)}/item.htm" \
                  f"?query=1&channel_id={c}"
        return (auction, bidder, price, channel, url, self.when(n),
                rng.extra(100 - 60) if self.extra else None)


def _table(options: dict[str, str]) -> str:
    t = options.get("nexmark.table.type")
    if t is None:
        raise bad_option("nexmark.table.type", "required: one of Person, Auction, Bid")
    if t.lower() not in SCHEMAS:
        raise bad_option("nexmark.table.type", f"expected Person, Auction or Bid, got '{t}'")
    return t.lower()


def _validate(spec: SourceSpec) -> None:
    opts = spec.options
    table = _table(opts)
    int_option(opts, "nexmark.event.num", None, minimum=0)
    int_option(opts, "nexmark.split.num", 1, minimum=1)
    int_option(opts, "nexmark.max.chunk.size", 1024, minimum=1)
    int_option(opts, "nexmark.min.event.gap.in.ns", 100_000, minimum=0)
    names = [n for n, _ in SCHEMAS[table]]
    for col, _t in spec.columns:
        if col.lower() not in names:
            raise bad_option("nexmark.table.type", f'a {table} has no column "{col}" '
                             f"(columns: {', '.join(names)})")


class NexmarkReader(ConnectorReader):
    def __init__(self, spec: SourceSpec) -> None:
        opts = spec.options
        self.table = _table(opts)
        self.event_num = int_option(opts, "nexmark.event.num", None)
        self.total_splits = int_option(opts, "nexmark.split.num", 1) or 1
        self.max_chunk = int_option(opts, "nexmark.max.chunk.size", 1024) or 1024
        gap = int_option(opts, "nexmark.min.event.gap.in.ns", 100_000) or 0
        base_us = int(opts.get("nexmark.base.time.us") or 0)
        names = [n for n, _ in SCHEMAS[self.table]]
        read = [spec.columns[i] for i in spec.output_columns]  # the columns a view reads
        self.gen = EventGenerator(self.table, base_us, gap, [c.lower() for c, _ in read])
        self.index = [names.index(c.lower()) for c, _ in read]
        if self.index == list(range(len(names))):
            self.index = []
        types = dict(SCHEMAS[self.table])
        self.casts = [(i, t) for i, (c, t) in enumerate(read) if types[c.lower()] != t]
        self.splits = my_splits(self.total_splits, spec.actor_index, spec.parallelism)
        self.next = {s: s for s in self.splits}  # split -> next event number
        self.offsets = OFFSETS[self.table]
        # Splits holding rows of this table at all: event n is in split n mod k and of
        # this table when n mod 50 is one of its offsets (solvable mod their gcd).
        g = math.gcd(self.total_splits, TOTAL_PROPORTION)
        self.productive = [s for s in self.splits if any((s - o) % g == 0 for o in self.offsets)]

    @property
    def idle(self) -> bool:  # type: ignore[override]
        return not self.productive or self.finished

    @property
    def finished(self) -> bool:  # type: ignore[override]
        return self.event_num is not None and all(self.next[s] >= self.event_num
                                                  for s in self.productive)

    def backlog(self) -> int | None:
        """Rows of this table in the events of this reader's splits not yet read
        (bounded sources; the table's share of each split's events, rounded)."""
        if self.event_num is None:
            return None
        k = self.total_splits
        events = sum(max(0, -(-(self.event_num - self.next[s]) // k)) for s in self.productive)
        return 0 if events == 0 else max(1, round(events * len(self.offsets) / TOTAL_PROPORTION))

    def read(self, max_rows: int) -> list[tuple]:
        """The next events of this actor's splits, in event order: the splits advance
        together, so the event times handed out never go backwards (watermarks)."""
        live = [s for s in self.productive
                if self.event_num is None or self.next[s] < self.event_num]
        if not live:
            return []
        k = self.total_splits
        nxt = self.next
        n = min(nxt[s] for s in live)
        limit = min(max_rows, self.max_chunk)
        end = self.event_num
        offsets, make = self.offsets, self.gen.make
        rows = []
        while len(rows) < limit and (end is None or n < end):
            s = n % k
            if s in nxt and n >= nxt[s]:
                if n % TOTAL_PROPORTION in offsets:
                    rows.append(make(n))
                nxt[s] = n + k
            n += 1
        if end is not None and n >= end:
            for s in live:
                nxt[s] = max(nxt[s], end)
        if self.index:
            idx = self.index
            rows = [tuple(r[i] for i in idx) for r in rows]
        for i, t in self.casts:
            rows = [r[:i] + (T.coerce(r[i], t),) + r[i + 1:] for r in rows]
        return rows

    def position(self) -> Any:
        return {str(s): n for s, n in self.next.items()}

    def restore(self, position: Any) -> None:
        for s, n in position.items():
            if int(s) in self.next:
                self.next[int(s)] = int(n)


def _default_columns(options: dict[str, str]) -> list[tuple[str, T.DataType]]:
    return list(SCHEMAS[_table(options)])


def _fixed(options: dict[str, str]) -> dict[str, str]:
    if "nexmark.base.time.us" in options:
        return {}
    # Whole seconds: event times then print the same in every client.
    return {"nexmark.base.time.us": str(int(time.time()) * 1_000_000)}


register(Connector("nexmark", _validate, NexmarkReader, _default_columns, _fixed))

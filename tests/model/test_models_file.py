"""A models file maps model names to their endpoints: per-endpoint limits and keys, prices,
balancing over fake servers started here; a bad file is an error naming the file, the line
or key and what was expected, before any model call."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reflectlab._util.fake_openai import FakeOpenAI, fake_server_process
from reflectlab.cli import app
from reflectlab.errors import InputError
from reflectlab.model import load_models_file
from reflectlab.run import RunConfig, StrategySpec, resume_run, start_run
from reflectlab.store import Store
from support.servers import serve


def models_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(text, encoding="utf-8")
    return path


def two_endpoints(a: str, b: str, *, extra: str = "") -> str:
    return f"""
[models."openai/fake"]
api_key_env = "TEST_KEY_A"
prices = {{ input = 1.0, output = 2.0 }}
endpoints = [
  {{ base_url = "{a}", concurrency = 2 }},
  {{ base_url = "{b}", concurrency = 5, api_key_env = "TEST_KEY_B" }},
]
{extra}"""


def config(**kw: object) -> RunConfig:
    base: dict[str, object] = {
        "task": "arith",
        "model": "openai/fake",
        "limit": 12,
        "max_rounds": 1,
        "concurrency": 16,
        "baselines": "none",
        "strategies": [StrategySpec(name="direct"), StrategySpec(name="self_refine")],
    }
    base.update(kw)
    return RunConfig.model_validate(base)


async def test_a_run_uses_each_endpoint_with_its_limit_key_and_prices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_KEY_A", "sk-a")
    monkeypatch.setenv("TEST_KEY_B", "sk-b")
    fa, fb = FakeOpenAI(latency_s=0.02), FakeOpenAI(latency_s=0.02)
    async with serve(fa) as a, serve(fb) as b:
        path = models_toml(tmp_path, two_endpoints(a, b))
        cfg = config().with_models_file(path)
        with Store(tmp_path / "r.db") as store:
            run_id = await start_run(cfg, store)
            served = Counter(
                url
                for (url,) in store.db.execute(
                    "SELECT base_url FROM calls WHERE run_id = ? AND from_cache = 0", (run_id,)
                )
            )
            cost = store.db.execute(
                "SELECT SUM(cost_usd), SUM(prompt_tokens), SUM(completion_tokens) FROM calls "
                "WHERE run_id = ? AND from_cache = 0",
                (run_id,),
            ).fetchone()
            stored = store.get_run(run_id)
    assert fa.requests and fb.requests
    assert served == {a: len(fa.requests), b: len(fb.requests)}
    # each endpoint's own limit held while the run had 16 samples in flight
    assert fa.max_in_flight <= 2 and fb.max_in_flight <= 5
    assert fb.max_in_flight > 2  # and the larger one was used beyond the smaller's
    # each endpoint got its own key: the model's default, or the endpoint's
    assert set(fa.authorizations) == {"Bearer sk-a"}
    assert set(fb.authorizations) == {"Bearer sk-b"}
    # the file's prices priced the calls: $1 / $2 per million prompt / completion tokens
    assert cost[0] == pytest.approx((cost[1] * 1.0 + cost[2] * 2.0) / 1e6)
    # the run stores the checked file (key variable names, never the keys)
    assert stored is not None and stored.config["models"]["path"] == str(path)
    assert "sk-a" not in json.dumps(stored.config)


async def test_resume_reaches_the_stored_endpoints_or_a_new_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_KEY_A", "sk-a")
    monkeypatch.setenv("TEST_KEY_B", "sk-b")
    fa, fb, fc = FakeOpenAI(), FakeOpenAI(), FakeOpenAI()
    async with serve(fa) as a, serve(fb) as b, serve(fc) as c:
        cfg = config(limit=4).with_models_file(models_toml(tmp_path, two_endpoints(a, b)))
        with Store(tmp_path / "r.db") as store:
            run_id = await start_run(cfg, store)
            store.db.execute("DELETE FROM checkpoints WHERE strategy = 'self_refine'")
            store.db.execute("DELETE FROM results WHERE strategy = 'self_refine'")
            store.db.execute("DELETE FROM cache")  # every call must be made again
            store.set_run_status(run_id, "interrupted")
            before = len(fa.requests) + len(fb.requests)
            await resume_run(run_id, store)  # the stored file: the same two servers
            assert len(fa.requests) + len(fb.requests) > before and not fc.requests
            store.db.execute("DELETE FROM checkpoints WHERE strategy = 'self_refine'")
            store.db.execute("DELETE FROM results WHERE strategy = 'self_refine'")
            store.db.execute("DELETE FROM cache")
            moved = tmp_path / "moved.toml"
            moved.write_text(
                f'[models."openai/fake"]\nendpoints = [{{ base_url = "{c}" }}]\n',
                encoding="utf-8",
            )
            await resume_run(run_id, store, models_file=moved)
            assert fc.requests  # the servers moved: the new file was used
            assert len(store.results(run_id)) == 8


BAD_FILES = [
    # (file text, what the error must say)
    ('[models."openai/m"\nendpoints = []\n', ["line 1", "not valid TOML"]),
    ('[model."openai/m"]\n', ["field 'model'", "unknown top-level key"]),
    ('[models."mock/m"]\nendpoints = [{ base_url = "http://a/v1" }]\n', ['models."mock/m"']),
    ('[models."openai/m"]\napi_key_env = "K"\n', ["endpoints", "required, missing"]),
    ('[models."openai/m"]\nendpoints = []\n', ['models."openai/m".endpoints', "at least 1"]),
    (
        '[models."openai/m"]\nendpoints = [{ base_url = "http://a/v1" }, '
        '{ base_url = "http://b/v1", concurrency = "many" }]\n',
        ['models."openai/m".endpoints[1].concurrency', "valid integer", "'many'"],
    ),
    (
        '[models."openai/m"]\nendpoints = [{ base_url = "http://a/v1", concurrency = 0 }]\n',
        ["endpoints[0].concurrency", "greater than or equal to 1"],
    ),
    (
        '[models."openai/m"]\nendpoints = [{ base_url = "gpu1:8000" }]\n',
        ["endpoints[0].base_url", "absolute http:// or https:// URL"],
    ),
    (
        '[models."openai/m"]\nendpoints = [{ url = "http://a/v1" }]\n',
        ["endpoints[0].url", "unknown key"],
    ),
    (
        '[models."openai/m"]\nendpoints = [{ base_url = "http://a/v1" }, '
        '{ base_url = "http://a/v1/" }]\n',
        ["endpoints", "endpoints[1] has the base_url of endpoints[0]"],
    ),
    (
        '[models."openai/m"]\nendpoints = [{ base_url = "http://a/v1", api_key_env = "MY KEY" }]\n',
        ["endpoints[0].api_key_env", "not an environment variable name"],
    ),
    (
        '[models."openai/m"]\nprices = { input = -1, output = 1 }\n'
        'endpoints = [{ base_url = "http://a/v1" }]\n',
        ["prices.input", "greater than or equal to 0"],
    ),
]


@pytest.mark.parametrize(("text", "says"), BAD_FILES)
def test_a_bad_file_names_the_file_the_key_and_what_is_expected(
    tmp_path: Path, text: str, says: list[str]
) -> None:
    path = models_toml(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_models_file(path)
    message = str(info.value)
    assert message.startswith(str(path))
    for part in says:
        assert part in message, message


def test_the_cli_takes_the_file_by_flag_or_env_and_refuses_a_bad_one_before_any_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFLECTLAB_HOME", str(tmp_path))
    monkeypatch.setenv("TEST_KEY_A", "sk-a")
    monkeypatch.delenv("TEST_KEY_B", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    db = tmp_path / "cli.db"
    cli = CliRunner()
    args = ["run", "-t", "arith", "-s", "direct", "-m", "openai/fake", "-n", "6", "--db", str(db)]
    with fake_server_process(0.0) as a, fake_server_process(0.0) as b:
        path = models_toml(tmp_path, two_endpoints(a, b))
        # TEST_KEY_B is not set: refused before the run exists, naming file and key
        bad = cli.invoke(app, [*args, "--models-file", str(path)])
        assert isinstance(bad.exception, InputError)  # exit 2 from the console script
        said = str(bad.exception)
        assert str(path) in said and "endpoints[1].api_key_env" in said
        assert "TEST_KEY_B is not set" in said
        assert not db.exists() or _count(db, "SELECT COUNT(*) FROM runs") == 0
        monkeypatch.setenv("TEST_KEY_B", "sk-b")
        # by the environment variable; --base-url is not needed for a model the file names
        monkeypatch.setenv("REFLECTLAB_MODELS_FILE", str(path))
        ok = cli.invoke(app, [*args, "--json", "-q"])
        assert ok.exit_code == 0, ok.output
        assert json.loads(ok.stdout)["config"]["models"]["path"] == str(path)
        served = {r[0] for r in _rows(db, "SELECT DISTINCT base_url FROM calls")}
        assert served == {a, b}


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(db)
    try:
        return list(con.execute(sql))
    finally:
        con.close()


def _count(db: Path, sql: str) -> int:
    try:
        return int(_rows(db, sql)[0][0])  # type: ignore[call-overload]
    except sqlite3.OperationalError:
        return 0

"""The web app in a real browser: Debian's chromium, driven by selenium through chromium-driver, against a
real server (uvicorn on a free loopback port) over real indexes. Each test saves screenshots under
`.test-artifacts/browser/` (VIDEOAGENT_TEST_ARTIFACTS to move them)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SHOTS = Path(os.environ.get("VIDEOAGENT_TEST_ARTIFACTS") or ROOT / ".test-artifacts") / "browser"
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def _serve(app):
    """uvicorn on a free port in a thread: (base url, stop)."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)

    def stop():
        server.should_exit = True
        thread.join(10)
        app.state.jobs.close()

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and DRIVER):
        message = "chromium and chromium-driver are not installed (make system installs them)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 "--autoplay-policy=no-user-gesture-required", "--mute-audio"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def site(ingested, profile):
    from videoagent.server import create_app

    store, _ = ingested
    base, stop = _serve(create_app(store.root, profile))
    yield base
    stop()


def wait(driver, condition, timeout: float = 60.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: condition(d))


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def images_loaded(driver) -> bool:
    """Every thumbnail on the page decoded (a thumbnail that failed has naturalWidth 0 for good)."""
    return driver.execute_script("return [...document.images].every((i) => i.complete && i.naturalWidth > 0)")


def player_time(driver) -> float:
    return driver.execute_script("const p = document.getElementById('player'); return p ? p.currentTime : -1;")


def test_library_search_click_plays_the_scene(browser, site, ingested):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _, results = ingested
    browser.get(site + "/")
    cards = wait(browser, lambda d: len(els := d.find_elements(By.CSS_SELECTOR, ".video-card")) == 2 and els)
    assert {c.get_attribute("data-id") for c in cards} == {r.video_id for r in results.values()}
    wait(browser, images_loaded)
    shot(browser, "library")

    box = browser.find_element(By.ID, "quick-q")
    box.send_keys("a tabby cat resting on a blanket", Keys.ENTER)
    hits = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".hit"))
    wait(browser, images_loaded)
    shot(browser, "search")
    first = hits[0]
    start = float(first.get_attribute("data-start"))
    assert 3.5 <= start <= 8.5, start  # the cat scene of the narrated fixture
    first.click()
    wait(browser, lambda d: d.find_elements(By.ID, "player"))
    wait(browser, lambda d: abs(player_time(d) - start) < 1.0 or player_time(d) > start and player_time(d) < start + 3)
    scenes = browser.find_elements(By.CSS_SELECTOR, "#scenes button")
    assert len(scenes) == 5
    wait(browser, images_loaded)
    shot(browser, "video-page")

    scenes[3].click()  # the scene strip seeks too
    target = float(scenes[3].get_attribute("data-start"))
    wait(browser, lambda d: target - 0.1 <= player_time(d) < target + 3)
    line = next(li for li in browser.find_elements(By.CSS_SELECTOR, "#transcript li") if "CAT CAFE OPEN" in li.text)
    line.click()  # so does a line of on-screen text
    target = float(line.get_attribute("data-start"))
    wait(browser, lambda d: target - 0.1 <= player_time(d) < target + 3)
    tracks = browser.execute_script("return document.getElementById('player').textTracks.length")
    assert tracks == 1


def test_chat_answer_cites_and_its_chip_seeks_and_survives_a_reload(browser, site, ingested):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _, results = ingested
    vid = results["narrated"].video_id
    browser.get(f"{site}/#/video/{vid}")
    browser.execute_script("localStorage.clear()")
    browser.refresh()
    box = wait(browser, lambda d: d.find_elements(By.ID, "chat-input"))[0]
    box.send_keys("What does the sign in the cat scene say?", Keys.ENTER)
    answer = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".msg.bot:not(.draft) .chip"), timeout=180)
    bubble = browser.find_elements(By.CSS_SELECTOR, ".msg.bot")[-1]
    assert "cat cafe open" in bubble.text.lower()
    shot(browser, "chat")
    answer[0].click()
    wait(browser, lambda d: 3.5 <= player_time(d) < 10)
    browser.refresh()
    bots = lambda d: d.find_elements(By.CSS_SELECTOR, ".msg.bot")  # noqa: E731
    wait(browser, lambda d: any("CAT CAFE OPEN" in m.text.upper() for m in bots(d)))
    assert len(browser.find_elements(By.CSS_SELECTOR, ".msg.you")) == 1  # the turn, shown again after the reload


def test_upload_on_the_page_becomes_a_ready_video(browser, tmp_path, media, profile):
    from selenium.webdriver.common.by import By

    from videoagent.index.store import Store
    from videoagent.server import create_app

    Store(tmp_path / "index").close()
    base, stop = _serve(create_app(tmp_path / "index", profile))
    try:
        browser.get(base + "/#/jobs")
        wait(browser, lambda d: d.find_elements(By.ID, "upload-files"))[0].send_keys(str(media.path("narrated_small")))
        browser.find_element(By.ID, "upload-send").click()
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".job[data-status=running], .job[data-status=done]"))
        shot(browser, "upload-running")
        done = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".job[data-status=done]"), timeout=240)
        assert "narrated_small.mp4" in done[0].text and "failed" not in done[0].text
        shot(browser, "upload-done")
        browser.get(base + "/#/")
        cards = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".video-card"))
        assert len(cards) == 1 and "done" in cards[0].text
    finally:
        stop()

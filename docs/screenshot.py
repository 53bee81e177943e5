"""Retake the README's report screenshot (docs/images/report.png) from the main job.

Run from the repository root: ``.venv/bin/python docs/screenshot.py``. It runs ``deeprecipe
run`` (the built-in digits) in a temporary folder and photographs the top of its
report.html with Debian's headless chromium (``apt-get install chromium chromium-driver``),
the browser the report's tests use.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

OUT = Path(__file__).resolve().parent / "images" / "report.png"
HEIGHT = 2300  # the verdict, data, model and learning curves


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, "-m", "deeprecipe.cli", "run", "--output-dir", folder,
                        "--name", "digits"], check=True, stdout=subprocess.DEVNULL)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                         "--hide-scrollbars", "--window-size=1200,1600",
                         f"--user-data-dir={folder}/profile"):
            options.add_argument(argument)
        driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"),
                                  options=options)
        try:
            driver.get((Path(folder) / "digits" / "report.html").as_uri())
            size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"],
                    "height": min(size["height"], HEIGHT), "scale": 1}
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True, "clip": clip})
        finally:
            driver.quit()
    OUT.write_bytes(base64.b64decode(shot["data"]))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

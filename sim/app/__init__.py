"""The web dashboard (`factoryshift dashboard`), built with Solara.

Modules, lightest first:

* `links`      - the few names the dashboard takes from the rest of `sim` (one place to fix after a move);
* `config`     - pure Python: lever choices -> a validated `Scenario`, its TOML export, errors per field;
* `runs`       - pure Python: seeded replicates with progress, paired differences, summaries;
* `charts`     - Altair charts built from those summaries (hover shows the values);
* `components` - Solara components; `page` - the page itself (needs the `dashboard` extra).

`config`, `runs` and `charts` import no Solara, so they are tested without a browser.
"""

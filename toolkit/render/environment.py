"""The Jinja environment: StrictUndefined, XML autoescaping, template errors with file:line."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from toolkit.errors import TemplateError


@lru_cache(maxsize=8)
def template_environment(templates_dir: str) -> jinja2.Environment:
    """One environment per templates folder (cached: Jinja compiles each template once)."""
    if not Path(templates_dir).is_dir():
        raise TemplateError(f"{templates_dir}: templates folder not found", hint="policies/ must sit next to toolkit.yaml")
    return jinja2.Environment(
        loader=_Utf8Loader(templates_dir),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("xml.j2",), default_for_string=False),
        keep_trailing_newline=False,
    )


class _Utf8Loader(jinja2.FileSystemLoader):
    """Templates read as UTF-8; one that is not is a TemplateError naming it (not a UnicodeDecodeError)."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Any]:
        try:
            return super().get_source(environment, template)
        except UnicodeDecodeError as exc:
            where = Path(self.searchpath[0]) / template
            raise TemplateError(f"{where}: not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r})",
                                hint="save the template as UTF-8") from None


def render_template(templates_dir: Path, name: str, **context: Any) -> str:
    """Render one template; any template problem becomes a TemplateError naming the file and line."""
    environment = template_environment(str(templates_dir))
    try:
        return environment.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{Path(templates_dir) / (exc.name or name)}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"{Path(templates_dir) / str(exc.name)}: template not found") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{_template_position(templates_dir, name)}: {exc.message}") from None
    except RecursionError:
        raise TemplateError(f"{_template_position(templates_dir, name)}: recursion too deep "
                            "(a macro or include that calls itself?)") from None
    except TemplateError:
        raise
    except Exception as exc:  # noqa: BLE001 - an expression of the template failed ({{ 1 / 0 }}, {{ "x" + 1 }}): bad input
        raise TemplateError(f"{_template_position(templates_dir, name)}: {type(exc).__name__}: {exc}") from None


def _template_position(templates_dir: Path, fallback: str) -> str:
    """The template file and line being rendered when the exception was raised (Jinja rewrites frames)."""
    tb = sys.exc_info()[2]
    where = str(Path(templates_dir) / fallback)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            where = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where

"""Static files storage for production: whitenoise's compressed, content-hashed files."""
from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Leaves a stylesheet's reference to a file we do not ship as it was, instead of failing
    collectstatic: KaTeX's CSS lists .woff/.ttf fallbacks after the .woff2 fonts we vendor, and
    every browser we support takes the .woff2."""

    def url_converter(self, name, hashed_files, template=None):
        convert = super().url_converter(name, hashed_files, template)

        def convert_or_keep(matchobj):
            try:
                return convert(matchobj)
            except ValueError:  # whitenoise's MissingFileError
                return matchobj.group(0)

        return convert_or_keep

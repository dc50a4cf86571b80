"""Datasets: cards, loaders into the standard Table, the embedded synthetic face set, composition.

Every loader returns a :class:`Dataset`: one pandas Table with ``y``, the sensitive attributes
in the shared taxonomy (native labels kept beside them as ``native_*``), ``split``, and ``path``
(images) or feature columns (tables), plus a :class:`LoadReport` that counts what was read,
kept, dropped and recoded. The dataset cards (``datasets/<name>.yaml``, shipped with the
package) hold each dataset's files, licence, citation, schema and the mapping onto the shared
taxonomy.

Getting the data: :func:`download` fetches datasets with stable public URLs (Adult, COMPAS),
checked against the card's sha256; :func:`import_archive` places what a user downloaded by hand
(FairFace's zip and CSVs, UTKFace's tar.gz) into the card's layout; :func:`verify` checks a copy
on disk against its card (label checksums, images listed vs present, ``deep`` decodes them).
"""

from __future__ import annotations

from fairsuite.data._cards import (
    AttributeMap,
    CardFile,
    DatasetCard,
    TaskSpec,
    get_card,
    list_datasets,
)
from fairsuite.data._composition import composition
from fairsuite.data._dataset import Dataset, LoadReport
from fairsuite.data._fetch import DownloadedFile, DownloadResult, download
from fairsuite.data._image_cache import ImageCache, build_image_cache
from fairsuite.data._import import ImportResult, import_archive
from fairsuite.data._loaders import is_table_path, load_csv, load_dataset
from fairsuite.data._open import dataset_info, integrity, load
from fairsuite.data._synthfaces import make_synthfaces
from fairsuite.data._verify import FileCheck, ImageCheck, VerifyReport, verify

__all__ = [
    # records
    "Dataset",
    "LoadReport",
    "DatasetCard",
    "CardFile",
    "AttributeMap",
    "TaskSpec",
    # loading
    "load",
    "integrity",
    "load_dataset",
    "load_csv",
    "is_table_path",
    "make_synthfaces",
    "list_datasets",
    "get_card",
    # describing
    "composition",
    "dataset_info",
    # decoded images
    "ImageCache",
    "build_image_cache",
    # getting the data: download, import, verify
    "download",
    "DownloadResult",
    "DownloadedFile",
    "import_archive",
    "ImportResult",
    "verify",
    "VerifyReport",
    "FileCheck",
    "ImageCheck",
]

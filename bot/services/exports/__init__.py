"""Staff exports, free of Telegram: file writers, small-cell suppression, key phrases."""

from bot.services.exports.keyphrases import GroupPhrases, Phrase, TextItem, key_phrases
from bot.services.exports.record_zip import write_record_zip, write_zip_of_csv
from bot.services.exports.safety import XLSX_OPTIONS, neutralise
from bot.services.exports.sheets import KeyphraseSheet
from bot.services.exports.suppression import Cell, suppress_counts, suppress_options
from bot.services.exports.tables import (
    EXCEL_MAX_ROWS,
    Column,
    Dataset,
    DictionaryEntry,
    ReadmeInfo,
    atomic_path,
    data_dictionary,
    file_name,
)
from bot.services.exports.writers_text import fit_for_telegram, write_csv, write_jsonl
from bot.services.exports.writers_xlsx import write_xlsx

__all__ = [
    "EXCEL_MAX_ROWS",
    "XLSX_OPTIONS",
    "Cell",
    "Column",
    "Dataset",
    "DictionaryEntry",
    "GroupPhrases",
    "KeyphraseSheet",
    "Phrase",
    "ReadmeInfo",
    "TextItem",
    "atomic_path",
    "data_dictionary",
    "file_name",
    "fit_for_telegram",
    "key_phrases",
    "neutralise",
    "suppress_counts",
    "suppress_options",
    "write_csv",
    "write_jsonl",
    "write_record_zip",
    "write_xlsx",
    "write_zip_of_csv",
]

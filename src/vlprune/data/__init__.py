"""Data layer: the record schema, the Pool, loaders and the LLaVA export."""

from vlprune.data.export import export_llava_json, to_llava_records
from vlprune.data.loaders import load_pool, loaders
from vlprune.data.pool import DatasetRef, Pool, field_coverage

__all__ = ["DatasetRef", "Pool", "export_llava_json", "field_coverage", "load_pool", "loaders",
           "to_llava_records"]

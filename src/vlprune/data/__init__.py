"""Data layer: the record schema, the Pool, loaders and the LLaVA export."""

from vlprune.data.export import export_llava_json, to_llava_records
from vlprune.data.loaders import load_pool, loaders
from vlprune.data.pool import DatasetRef, Pool

__all__ = ["DatasetRef", "Pool", "export_llava_json", "load_pool", "loaders", "to_llava_records"]

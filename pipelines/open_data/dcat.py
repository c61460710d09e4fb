"""DCAT-AP (2.1 / 3) metadata in JSON-LD: `<name>/dcat.jsonld` (one dcat:Dataset with a distribution per
exported file) and `catalog.jsonld` (the dcat:Catalog holding them all). Controlled vocabularies are the EU
Publications Office authority tables (data themes, frequencies, countries, file types, languages).
Pure functions of the definitions and file facts: no clock, so the same export gives the same bytes."""
from __future__ import annotations

from pipelines.open_data.catalogue import Catalogue, Dataset

EU = "http://publications.europa.eu/resource/authority/"
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
FILE_TYPES = {"CSV": ("CSV", "text/csv"), "Parquet": ("PARQUET", "application/vnd.apache.parquet"),
              "JSON": ("JSON", "application/json"), "JSON-LD": ("JSON_LD", "application/ld+json")}
IANA = "https://www.iana.org/assignments/media-types/"
FREQUENCIES = {"ANNUAL": "ANNUAL", "ANNUAL_2": "ANNUAL_2", "QUARTERLY": "QUARTERLY", "MONTHLY": "MONTHLY",
               "IRREG": "IRREG", "UNKNOWN": "UNKNOWN"}


def _lang(lv: str, en: str) -> list[dict]:
    return [{"@value": lv, "@language": "lv"}, {"@value": en, "@language": "en"}]


def _date(d: str) -> dict:
    return {"@value": d, "@type": "xsd:date"}


def _publisher(cat: Catalogue) -> dict:
    return {"@id": cat.publisher_uri, "@type": "foaf:Agent", "foaf:name": _lang(cat.publisher_lv, cat.publisher_en),
            "dct:type": {"@id": "http://purl.org/adms/publishertype/NationalAuthority"}}


def _contact(cat: Catalogue) -> dict:
    return {"@type": "vcard:Organization", "vcard:fn": cat.contact_name,
            "vcard:hasEmail": {"@id": "mailto:" + cat.contact_email}}


def distribution(cat: Catalogue, ds: Dataset, file: dict, base: str) -> dict:
    """`file`: a manifest entry; `base`: the prefix that makes its path relative to the document
    ('' inside <name>/, '<name>/' in catalog.jsonld)."""
    filename = file["path"].rsplit("/", 1)[-1]
    code, media = FILE_TYPES[file["format"]]
    period = file.get("period")
    title_lv = f"{ds.title_lv}, {period.replace('-', '/')}" if period else f"{ds.title_lv}: {filename}"
    title_en = f"{ds.title_en}, {period.replace('-', '/')}" if period else f"{ds.title_en}: {filename}"
    out = {
        "@id": f"{cat.uri(ds)}/distribution/{filename}",
        "@type": "dcat:Distribution",
        "dct:identifier": filename,
        "dct:title": _lang(title_lv, title_en),
        "dcat:accessURL": {"@id": cat.uri(ds)},
        "dcat:downloadURL": {"@id": base + filename},  # relative: resolved against where the file is served
        "dcat:mediaType": {"@id": IANA + media},
        "dct:format": {"@id": EU + "file-type/" + code},
        "dct:license": {"@id": cat.licence_uri},
        "spdx:checksum": {"@type": "spdx:Checksum",
                          "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                          "spdx:checksumValue": file["sha256"]},
        "dcat:byteSize": {"@value": str(file["bytes"]), "@type": "xsd:nonNegativeInteger"},
    }
    if period:
        start, end = period.split("-")
        out["dct:temporal"] = {"@type": "dct:PeriodOfTime", "dcat:startDate": _date(f"{start}-09-01"),
                               "dcat:endDate": _date(f"{end}-08-31")}
    if file["format"] == "CSV":
        out["dct:conformsTo"] = {"@id": "https://www.rfc-editor.org/rfc/rfc4180"}
    return out


def dataset_node(cat: Catalogue, ds: Dataset, files: list[dict], temporal: tuple[str, str] | None,
                 modified: str | None, base: str = "") -> dict:
    node = {
        "@id": cat.uri(ds),
        "@type": "dcat:Dataset",
        "dct:identifier": cat.uri(ds),
        "dct:title": _lang(ds.title_lv, ds.title_en),
        "dct:description": _lang(ds.description_lv, ds.description_en),
        "dcat:keyword": [{"@value": k, "@language": "lv"} for k in ds.keywords_lv]
                        + [{"@value": k, "@language": "en"} for k in ds.keywords_en],
        "dcat:theme": {"@id": EU + "data-theme/EDUC"},
        "dct:publisher": _publisher(cat),
        "dcat:contactPoint": _contact(cat),
        "dct:license": {"@id": cat.licence_uri},
        "dct:accessRights": {"@id": EU + "access-right/PUBLIC"},
        "dct:language": {"@id": EU + "language/LAV"},
        "dct:accrualPeriodicity": {"@id": EU + "frequency/" + FREQUENCIES[ds.update_frequency]},
        "dct:spatial": {"@id": EU + "country/LVA"},
        "dcat:landingPage": {"@id": cat.uri(ds)},
    }
    if temporal:
        node["dct:temporal"] = {"@type": "dct:PeriodOfTime", "dcat:startDate": _date(temporal[0]),
                                "dcat:endDate": _date(temporal[1])}
    if modified:
        node["dct:modified"] = _date(modified)
    node["dcat:distribution"] = [distribution(cat, ds, f, base) for f in files]
    return node


def dataset_document(cat: Catalogue, ds: Dataset, files: list[dict], temporal, modified) -> dict:
    """`<name>/dcat.jsonld`: distributions for the data files and datapackage.json (not for itself)."""
    return {"@context": CONTEXT, **dataset_node(cat, ds, files, temporal, modified)}


def catalog_document(cat: Catalogue, nodes: list[dict], modified: str | None) -> dict:
    """`catalog.jsonld`: the dcat:Catalog with every exported dataset node (paths relative to open_data/)."""
    doc = {
        "@context": CONTEXT,
        "@id": cat.uri_base.rstrip("/"),
        "@type": "dcat:Catalog",
        "dct:title": _lang(f"{cat.publisher_lv}: izglītības atvērtie dati",
                           f"{cat.publisher_en}: open education data"),
        "dct:description": _lang(
            "Valsts izglītības informācijas sistēmas (VIIS) anonimizētas atvērtās datu kopas.",
            "Anonymised open datasets of the State Education Information System (VIIS)."),
        "dct:publisher": _publisher(cat),
        "dct:license": {"@id": cat.licence_uri},
        "dct:language": {"@id": EU + "language/LAV"},
        "dcat:themeTaxonomy": {"@id": EU + "data-theme"},
        "foaf:homepage": {"@id": cat.uri_base},
    }
    if modified:
        doc["dct:modified"] = _date(modified)
    doc["dcat:dataset"] = nodes
    return doc

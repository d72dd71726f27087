from inventory.partner_file_command import PartnerFileCommand
from returns.imports import ReturnsRejected, returns_import


class Command(PartnerFileCommand):
    help = (
        "Receive the returns of a 3PL's file (CSV: return,sku,quantity,disposition) in one "
        "transaction: restock puts units back on hand, damaged into quarantine, dispose "
        "records them. Any bad row rejects the whole file; every bad row is printed."
    )
    what = "returns file"
    location_help = (
        "Where the units were received (and only returns expected there); "
        "default: each return's own location."
    )
    rejected = ReturnsRejected

    def apply(self, *, data, location, actor) -> str:
        received = returns_import(data=data, location=location, actor=actor)
        return f"Received {received} return(s)."

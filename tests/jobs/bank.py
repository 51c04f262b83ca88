"""What the bank sends back, for tests: a pain.002.001.03 status report rejecting collections."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

NS = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"


def pain002(message_id: str, rejected: Sequence[tuple[str, Decimal, str]], original: str = "ORIGINAL") -> bytes:
    """A status report rejecting each (EndToEndId, amount, ISO reason code)."""
    txs = "".join(
        f"<TxInfAndSts><OrgnlEndToEndId>{e2e}</OrgnlEndToEndId><TxSts>RJCT</TxSts>"
        f"<StsRsnInf><Rsn><Cd>{code}</Cd></Rsn></StsRsnInf>"
        f'<OrgnlTxRef><Amt><InstdAmt Ccy="EUR">{amount:.2f}</InstdAmt></Amt>'
        f"<ReqdColltnDt>2026-12-15</ReqdColltnDt></OrgnlTxRef></TxInfAndSts>"
        for e2e, amount, code in rejected)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NS}"><CstmrPmtStsRpt>'
            f"<GrpHdr><MsgId>{message_id}</MsgId><CreDtTm>2026-12-16T10:00:00</CreDtTm></GrpHdr>"
            f"<OrgnlGrpInfAndSts><OrgnlMsgId>{original}</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId>"
            f"<GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>"
            f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>PMT1</OrgnlPmtInfId>{txs}</OrgnlPmtInfAndSts>"
            f"</CstmrPmtStsRpt></Document>\n").encode()

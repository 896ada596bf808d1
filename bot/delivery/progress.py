"""The sender's status message: live counts while a notice is delivered, then the report."""

from __future__ import annotations

from datetime import timedelta

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.context import Services
from bot.delivery.worker import ProgressCallback
from bot.i18n import Markup, Texts
from storage.models import Broadcast, DeliveryCounts


def progress_text(
    texts: Texts, broadcast: Broadcast, counts: DeliveryCounts, rate: float | None, final: bool
) -> str:
    """The status line of a notice, in its sender's language."""
    language = broadcast.fallback_language
    acks = texts.get(language, "bc.acks", acked=counts.acknowledged) if broadcast.ask_ack else ""
    values = {
        "id": broadcast.id,
        "sent": counts.sent,
        "total": counts.total,
        "pending": counts.pending + counts.sending,
        "blocked": counts.blocked,
        "failed": counts.failed,
    }
    if final:
        return texts.get(language, "bc.report", acks=Markup(acks), **values)
    eta = ""
    if rate and values["pending"]:
        left = timedelta(seconds=round(values["pending"] / rate))
        eta = texts.get(language, "bc.eta", eta=str(left))
    return texts.get(language, "bc.progress", eta=Markup(eta), acks=Markup(acks), **values)


def progress_reporter(bot: Bot, services: Services) -> ProgressCallback:
    """Edit each notice's status message as delivery goes, ending with the delivery report."""

    async def report(broadcast: Broadcast, final: bool) -> None:
        if broadcast.status_chat_id is None or broadcast.status_message_id is None:
            return
        counts = await services.store.broadcasts.counts(broadcast.id)
        rate = services.delivery.pacer.rate if services.delivery else None
        text = progress_text(
            services.texts, broadcast, counts, rate, final or broadcast.status == "done"
        )
        try:
            await bot.edit_message_text(
                text,
                chat_id=broadcast.status_chat_id,
                message_id=broadcast.status_message_id,
                parse_mode=ParseMode.HTML,
            )
        except BadRequest as error:
            if "not modified" not in str(error):
                raise

    return report

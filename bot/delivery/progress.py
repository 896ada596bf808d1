"""The sender's status message: live counts while a notice is delivered, then the report."""

from __future__ import annotations

from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.callbacks import button_data
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
    if broadcast.status == "cancelled":
        return texts.get(language, "bc.stopped", acks=Markup(acks), **values)
    if final:
        return texts.get(language, "bc.report", acks=Markup(acks), **values)
    eta = ""
    if rate and values["pending"]:
        left = timedelta(seconds=round(values["pending"] / rate))
        eta = texts.get(language, "bc.eta", eta=str(left))
    return texts.get(language, "bc.progress", eta=Markup(eta), acks=Markup(acks), **values)


def stop_button(texts: Texts, broadcast: Broadcast) -> InlineKeyboardMarkup:
    label = texts.plain(broadcast.fallback_language, "bc.stop")
    data = button_data("bc", "stop", broadcast.id)
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


def progress_reporter(bot: Bot, services: Services) -> ProgressCallback:
    """Edit each notice's status message as delivery goes, ending with the delivery report."""

    async def report(broadcast: Broadcast, final: bool) -> None:
        if broadcast.status_chat_id is None or broadcast.status_message_id is None:
            return
        counts = await services.broadcasts.counts(broadcast.id)
        rate = services.delivery.rate
        final = final or broadcast.status != "queued"
        text = progress_text(services.texts, broadcast, counts, rate, final)
        try:
            await bot.edit_message_text(
                text,
                chat_id=broadcast.status_chat_id,
                message_id=broadcast.status_message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=None if final else stop_button(services.texts, broadcast),
            )
        except BadRequest as error:
            if "not modified" not in str(error):
                raise

    return report

"""What the command line says, in the report's language (the documents' wording lives in templates/locale)."""

from __future__ import annotations

TEXT = {
    "ru": {
        "stage.load": "Загрузка данных", "stage.validate": "Проверка и очистка", "stage.features": "Признаки клиентов",
        "stage.segments": "Сегменты", "stage.experiment": "A/B-тест", "stage.propensity": "Модель склонности",
        "stage.offers": "Предложения",
        "stage.lifetime": "Ценность клиентов", "stage.uplift": "Кого выбирать дальше", "stage.render": "Документы",
        "still_running": "идёт {seconds} с",
        "done": "Готово за {seconds} с →", "files": "Записаны файлы:",
        "already_sent": "Уже отправлено для этих данных; отправлять нечего (--force отправит ещё раз).",
        "attempt_failed": "попытка отправки {attempt} не удалась:",
        "interrupted": "Прошлая отправка прервалась на полпути; отправляю снова с тем же Message-ID {msgid}, "
                       "почтовые системы узнают в нём то же письмо.", "sent": "Отправлено: {to}.",
        "not_sent": "письмо не отправлено ({to}); документы сохранены, следующий запуск или "
                    "`campaign-report send` отправит их.",
        "refused": "сервер отказался принять письмо для {to} ({reply}); следующий `campaign-report send` "
                   "попробует отправить его только этому адресату.",
        "unknown": "письмо для {to} ушло целиком, но сервер не ответил: возможно, оно доставлено. Само оно "
                   "повторно не отправится; проверьте у адресата и при необходимости отправьте снова с --force.",
        "inputs_changed": "Данные изменились: строю отчёт.", "error": "ошибка", "internal": "внутренняя ошибка",
        "rerun_debug": "(запустите с --debug)",
        "demo": "Демо-данные: {customers} клиентов, {lines} строк покупок → {out}",
        "no_font": "Шрифт Liberation Sans не установлен: документы будут набраны другим шрифтом, и заголовки и "
                   "таблицы могут переноситься иначе (Debian: apt-get install fonts-liberation2).",
    },
    "en": {
        "stage.load": "Loading data", "stage.validate": "Validation and cleaning",
        "stage.features": "Customer features",
        "stage.segments": "Segments", "stage.experiment": "A/B test", "stage.propensity": "Propensity model",
        "stage.offers": "Offers",
        "stage.lifetime": "Customer value", "stage.uplift": "Whom to contact next", "stage.render": "Documents",
        "still_running": "running for {seconds} s",
        "done": "Done in {seconds} s →", "files": "Files written:",
        "already_sent": "Already sent for these inputs; nothing to do (use --force to send again).",
        "attempt_failed": "send attempt {attempt} failed:",
        "interrupted": "The last delivery stopped half-way; sending again with the same Message-ID {msgid}, "
                       "which mail systems recognise as the same message.", "sent": "Sent to {to}.",
        "not_sent": "e-mail not sent ({to}); the documents are kept and the next run or `campaign-report send` "
                    "will deliver them.",
        "refused": "the server refused the message for {to} ({reply}); the next `campaign-report send` tries "
                   "that recipient alone.",
        "unknown": "the message for {to} went out whole but the server never answered: it may have been "
                   "delivered. It is not sent again by itself; check with the recipient and resend with --force "
                   "if needed.",
        "inputs_changed": "Inputs changed: running the report.", "error": "error", "internal": "internal error",
        "rerun_debug": "(rerun with --debug)",
        "demo": "Demo data: {customers} customers, {lines} purchase lines → {out}",
        "no_font": "Liberation Sans is not installed: the documents fall back to another font, and titles and "
                   "tables may wrap differently (Debian: apt-get install fonts-liberation2).",
    },
}


def say(language: str, key: str, **values: object) -> str:
    """A console message in `language` (English when the language has no catalogue)."""
    return TEXT.get(language, TEXT["en"])[key].format(**values)

"""XLSForm surveys without Telegram: load a form, evaluate its expressions, check answers."""

from bot.services.xlsform.answers import (
    Answer,
    AnswerError,
    convert_answer,
    default_value,
    is_relevant,
    relevant_questions,
    relevant_values,
    validate_answer,
    visible_choices,
)
from bot.services.xlsform.expressions import (
    Expression,
    ExpressionError,
    parse_expression,
)
from bot.services.xlsform.model import (
    Choice,
    Form,
    FormError,
    Group,
    LocalizedText,
    MetadataField,
    Question,
    RangeParameters,
)
from bot.services.xlsform.parser import ParsedForm, load_xlsform, parse_sheets
from bot.services.xlsform.values import truthy

__all__ = [
    "Answer",
    "AnswerError",
    "Choice",
    "Expression",
    "ExpressionError",
    "Form",
    "FormError",
    "Group",
    "LocalizedText",
    "MetadataField",
    "ParsedForm",
    "Question",
    "RangeParameters",
    "convert_answer",
    "default_value",
    "is_relevant",
    "load_xlsform",
    "parse_expression",
    "parse_sheets",
    "relevant_questions",
    "relevant_values",
    "truthy",
    "validate_answer",
    "visible_choices",
]

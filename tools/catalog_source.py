"""One-off source of the first catalogs; the .po files under bot/locales are the truth from now on.

Run ``python tools/catalog_source.py`` only to regenerate from scratch (it overwrites the .po files).
"""

# ruff: noqa: E501
from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

T: dict[str, tuple[str, str, str]] = {
    # key: (es, en, fr)
    "language.name.es": ("Español", "Español", "Español"),
    "language.name.en": ("English", "English", "English"),
    "language.name.fr": ("Français", "Français", "Français"),
    "start.choose_language": (
        "¡Bienvenido/a a <b>{programme}</b>! Esta es la consulta del Consejo a la diáspora en Canadá y Estados Unidos.\n\nElige tu idioma:",
        "Welcome to <b>{programme}</b>! This is the Council's consultation of the diaspora in Canada and the United States.\n\nChoose your language:",
        "Bienvenue à <b>{programme}</b> ! Voici la consultation du Conseil auprès de la diaspora au Canada et aux États-Unis.\n\nChoisissez votre langue :",
    ),
    "start.welcome_back": (
        "¡Hola, {name}! Ya estás registrado/a. Envía /help para ver lo que puedes hacer.",
        "Hello, {name}! You are already registered. Send /help to see what you can do.",
        "Bonjour, {name} ! Vous êtes déjà inscrit·e. Envoyez /help pour voir ce que vous pouvez faire.",
    ),
    "start.resume": (
        "Continuemos tu registro donde lo dejaste.",
        "Let's continue your registration where you left off.",
        "Reprenons votre inscription là où vous l'avez laissée.",
    ),
    "privacy.notice": (
        "<b>Aviso de privacidad</b> (versión {version})\n\nPara participar guardamos: el nombre con el que quieres que te llamemos, tu país, provincia o estado, ciudad y zona horaria, tu asociación, sector y temas de interés, y —solo si nos los das— tu correo y teléfono.\n\n• Se usan solo para esta consulta: avisos, reuniones y encuestas.\n• Tus respuestas a encuestas se guardan con un identificador seudónimo, nunca con tu nombre ni tu teléfono.\n• Nadie sin autorización ve tu teléfono o correo.\n• Puedes ver todo lo que guardamos (/mydata) y borrarlo (/deleteme) cuando quieras.\n\n¿Aceptas?",
        "<b>Privacy notice</b> (version {version})\n\nTo take part we keep: the name you want to be called, your country, province or state, city and time zone, your association, sector and themes of interest, and — only if you give them — your email and phone.\n\n• They are used only for this consultation: notices, meetings and surveys.\n• Your survey answers are kept under a pseudonymous id, never with your name or phone.\n• Nobody without authorisation sees your phone or email.\n• You can see everything we keep (/mydata) and erase it (/deleteme) at any time.\n\nDo you agree?",
        "<b>Avis de confidentialité</b> (version {version})\n\nPour participer, nous conservons : le nom par lequel vous voulez être appelé·e, votre pays, province ou État, ville et fuseau horaire, votre association, secteur et thèmes d'intérêt, et — seulement si vous les donnez — votre courriel et téléphone.\n\n• Ils servent uniquement à cette consultation : avis, réunions et sondages.\n• Vos réponses aux sondages sont conservées sous un identifiant pseudonyme, jamais avec votre nom ni votre téléphone.\n• Personne sans autorisation ne voit votre téléphone ou courriel.\n• Vous pouvez voir tout ce que nous conservons (/mydata) et l'effacer (/deleteme) à tout moment.\n\nAcceptez-vous ?",
    ),
    "button.accept": ("Acepto", "I agree", "J'accepte"),
    "button.decline": ("No acepto", "I do not agree", "Je refuse"),
    "consent.declined": (
        "Entendido. No hemos guardado nada sobre ti. Si cambias de opinión, envía /start.",
        "Understood. We have stored nothing about you. If you change your mind, send /start.",
        "Compris. Nous n'avons rien conservé sur vous. Si vous changez d'avis, envoyez /start.",
    ),
    "ask.name": (
        "Gracias. ¿Cómo quieres que te llamemos?",
        "Thank you. What name should we call you?",
        "Merci. Comment voulez-vous qu'on vous appelle ?",
    ),
    "ask.country": (
        "¿En qué país vives?",
        "Which country do you live in?",
        "Dans quel pays vivez-vous ?",
    ),
    "country.CA": ("Canadá", "Canada", "Canada"),
    "country.US": ("Estados Unidos", "United States", "États-Unis"),
    "ask.region": (
        "¿En qué provincia o estado? Elige un botón o escribe el nombre o las dos letras (por ejemplo, TX).",
        "Which province or state? Choose a button or type its name or two-letter code (for example, TX).",
        "Quelle province ou quel État ? Choisissez un bouton ou tapez son nom ou son code à deux lettres (par exemple, QC).",
    ),
    "ask.region_page": (
        "Página {page} de {pages}.",
        "Page {page} of {pages}.",
        "Page {page} sur {pages}.",
    ),
    "ask.city": (
        "¿En qué ciudad vives?",
        "Which city do you live in?",
        "Dans quelle ville vivez-vous ?",
    ),
    "ask.zone": (
        "{region} tiene más de una zona horaria. ¿Qué hora marca tu reloj ahora?",
        "{region} has more than one time zone. What time does your clock show now?",
        "{region} a plus d'un fuseau horaire. Quelle heure indique votre horloge en ce moment ?",
    ),
    "zone.option": ("{time} — {label}", "{time} — {label}", "{time} — {label}"),
    "ask.association": (
        "¿A qué asociación de la diáspora perteneces? Elige de la lista, escribe parte del nombre para buscar, o usa los botones de abajo.",
        "Which diaspora association do you belong to? Choose from the list, type part of the name to search, or use the buttons below.",
        "À quelle association de la diaspora appartenez-vous ? Choisissez dans la liste, tapez une partie du nom pour chercher, ou utilisez les boutons ci-dessous.",
    ),
    "ask.association_results": (
        "Resultados para «{query}»:",
        "Results for “{query}”:",
        "Résultats pour « {query} » :",
    ),
    "ask.association_none_found": (
        "No encontramos ninguna asociación con «{query}». Prueba otra búsqueda o pulsa «No está en la lista».",
        "We found no association matching “{query}”. Try another search or press “Not in the list”.",
        "Aucune association ne correspond à « {query} ». Essayez une autre recherche ou appuyez sur « Pas dans la liste ».",
    ),
    "ask.association_new": (
        "Escribe el nombre de tu asociación. Un administrador lo revisará.",
        "Type the name of your association. An administrator will review it.",
        "Tapez le nom de votre association. Un administrateur le vérifiera.",
    ),
    "ask.sector": (
        "¿En qué sector participas?",
        "Which sector do you take part in?",
        "Dans quel secteur participez-vous ?",
    ),
    "ask.themes": (
        "¿Qué temas te interesan? Marca uno o varios y pulsa «Listo».",
        "Which themes interest you? Tick one or more, then press “Done”.",
        "Quels thèmes vous intéressent ? Cochez-en un ou plusieurs, puis appuyez sur « Terminé ».",
    ),
    "ask.email": (
        "Si quieres, escribe tu correo electrónico (opcional).",
        "If you like, type your email address (optional).",
        "Si vous le souhaitez, tapez votre adresse courriel (facultatif).",
    ),
    "ask.phone": (
        "Si quieres, comparte tu teléfono con el botón de abajo (opcional). Por tu seguridad, solo lo aceptamos por ese botón.",
        "If you like, share your phone number with the button below (optional). For your safety we only accept it through that button.",
        "Si vous le souhaitez, partagez votre numéro avec le bouton ci-dessous (facultatif). Pour votre sécurité, nous ne l'acceptons que par ce bouton.",
    ),
    "phone.received": ("Teléfono guardado ✓", "Phone saved ✓", "Téléphone enregistré ✓"),
    "phone.skipped": ("Sin teléfono ✓", "No phone ✓", "Sans téléphone ✓"),
    "sector.government": ("Gobierno", "Government", "Gouvernement"),
    "sector.private": ("Sector privado", "Private sector", "Secteur privé"),
    "sector.civil-society": ("Sociedad civil", "Civil society", "Société civile"),
    "sector.academia": ("Academia", "Academia", "Milieu universitaire"),
    "sector.diaspora-association": (
        "Asociación de la diáspora",
        "Diaspora association",
        "Association de la diaspora",
    ),
    "theme.investment-remittances": (
        "Inversión de la diáspora y remesas",
        "Diaspora investment and remittances",
        "Investissement de la diaspora et transferts de fonds",
    ),
    "theme.consular-services": (
        "Servicios consulares y registro",
        "Consular services and registration",
        "Services consulaires et enregistrement",
    ),
    "theme.civic-participation": (
        "Voto en el exterior y participación cívica",
        "Out-of-country voting and civic participation",
        "Vote à l'étranger et participation civique",
    ),
    "theme.protection": (
        "Protección de migrantes y sus familias",
        "Protection of migrants and their families",
        "Protection des migrants et de leurs familles",
    ),
    "theme.skills-knowledge": (
        "Habilidades, educación y transferencia de conocimientos",
        "Skills, education and knowledge transfer",
        "Compétences, éducation et transfert de connaissances",
    ),
    "theme.return-reintegration": (
        "Retorno y reintegración",
        "Return and reintegration",
        "Retour et réintégration",
    ),
    "button.back": ("« Atrás", "« Back", "« Retour"),
    "button.skip": ("Omitir", "Skip", "Passer"),
    "button.next_page": ("Siguiente »", "Next »", "Suivant »"),
    "button.previous_page": ("« Anterior", "« Previous", "« Précédent"),
    "button.not_listed": ("No está en la lista", "Not in the list", "Pas dans la liste"),
    "button.no_association": ("Ninguna", "None", "Aucune"),
    "button.done": ("Listo", "Done", "Terminé"),
    "button.confirm": ("Confirmar ✓", "Confirm ✓", "Confirmer ✓"),
    "button.share_phone": (
        "📱 Compartir mi teléfono",
        "📱 Share my phone",
        "📱 Partager mon téléphone",
    ),
    "button.edit.name": ("Editar nombre", "Edit name", "Modifier le nom"),
    "button.edit.place": ("Editar lugar", "Edit place", "Modifier le lieu"),
    "button.edit.association": ("Editar asociación", "Edit association", "Modifier l'association"),
    "button.edit.sector": ("Editar sector", "Edit sector", "Modifier le secteur"),
    "button.edit.themes": ("Editar temas", "Edit themes", "Modifier les thèmes"),
    "button.edit.email": ("Editar correo", "Edit email", "Modifier le courriel"),
    "button.edit.phone": ("Editar teléfono", "Edit phone", "Modifier le téléphone"),
    "button.delete_yes": ("Sí, borrar mis datos", "Yes, erase my data", "Oui, effacer mes données"),
    "button.delete_no": ("No, conservarlos", "No, keep them", "Non, les conserver"),
    "summary.title": (
        "<b>Revisa tus datos</b> y confirma, o edita lo que haga falta:",
        "<b>Check your details</b> and confirm, or edit what you need:",
        "<b>Vérifiez vos informations</b> et confirmez, ou modifiez ce qu'il faut :",
    ),
    "profile.title": (
        "<b>Tu perfil</b> — pulsa un botón para editar:",
        "<b>Your profile</b> — press a button to edit:",
        "<b>Votre profil</b> — appuyez sur un bouton pour modifier :",
    ),
    "field.name": ("Nombre", "Name", "Nom"),
    "field.place": ("Lugar", "Place", "Lieu"),
    "field.zone": ("Zona horaria", "Time zone", "Fuseau horaire"),
    "field.association": ("Asociación", "Association", "Association"),
    "field.sector": ("Sector", "Sector", "Secteur"),
    "field.themes": ("Temas", "Themes", "Thèmes"),
    "field.email": ("Correo", "Email", "Courriel"),
    "field.phone": ("Teléfono", "Phone", "Téléphone"),
    "field.language": ("Idioma", "Language", "Langue"),
    "value.none": ("—", "—", "—"),
    "value.no_association": ("ninguna", "none", "aucune"),
    "value.pending": (
        "(pendiente de revisión)",
        "(pending review)",
        "(en attente de vérification)",
    ),
    "registered.done": (
        "¡Listo, {name}! Tu registro está completo. Recibirás avisos de reuniones y encuestas en tu hora local. Envía /help para ver lo que puedes hacer.",
        "All set, {name}! Your registration is complete. You will get notices of meetings and surveys in your local time. Send /help to see what you can do.",
        "C'est fait, {name} ! Votre inscription est terminée. Vous recevrez les avis de réunions et de sondages à votre heure locale. Envoyez /help pour voir ce que vous pouvez faire.",
    ),
    "profile.saved": ("Cambios guardados ✓", "Changes saved ✓", "Modifications enregistrées ✓"),
    "profile.not_registered": (
        "Todavía no estás registrado/a. Envía /start para empezar.",
        "You are not registered yet. Send /start to begin.",
        "Vous n'êtes pas encore inscrit·e. Envoyez /start pour commencer.",
    ),
    "profile.finish_first": (
        "Primero termina tu registro (o envía /cancel para pausarlo).",
        "Finish your registration first (or send /cancel to pause it).",
        "Terminez d'abord votre inscription (ou envoyez /cancel pour la mettre en pause).",
    ),
    "language.choose": ("Elige tu idioma:", "Choose your language:", "Choisissez votre langue :"),
    "language.changed": (
        "Idioma cambiado: español.",
        "Language changed: English.",
        "Langue modifiée : français.",
    ),
    "mydata.caption": (
        "Todo lo que guardamos sobre ti, en JSON.",
        "Everything we keep about you, as JSON.",
        "Tout ce que nous conservons sur vous, en JSON.",
    ),
    "deleteme.confirm": (
        "¿Seguro? Borraremos tu nombre, ciudad, correo, teléfono y el vínculo con tu cuenta de Telegram. Tus respuestas ya dadas se conservan de forma anónima para la política y ya no se podrán relacionar contigo.",
        "Are you sure? We will erase your name, city, email, phone and the link to your Telegram account. Answers you already gave are kept anonymously for the policy and can no longer be tied to you.",
        "Êtes-vous sûr·e ? Nous effacerons votre nom, ville, courriel, téléphone et le lien avec votre compte Telegram. Les réponses déjà données sont conservées anonymement pour la politique et ne pourront plus vous être associées.",
    ),
    "deleteme.done": (
        "Hecho: tus datos personales se borraron. Si quieres volver a participar, envía /start.",
        "Done: your personal data was erased. If you want to take part again, send /start.",
        "C'est fait : vos données personnelles ont été effacées. Pour participer à nouveau, envoyez /start.",
    ),
    "deleteme.kept": (
        "De acuerdo, no se borró nada.",
        "All right, nothing was erased.",
        "D'accord, rien n'a été effacé.",
    ),
    "cancel.paused": (
        "Registro en pausa. Lo que ya nos diste está guardado: envía /start para continuar, o /deleteme para borrarlo.",
        "Registration paused. What you already gave us is saved: send /start to continue, or /deleteme to erase it.",
        "Inscription en pause. Ce que vous nous avez déjà donné est conservé : envoyez /start pour continuer, ou /deleteme pour l'effacer.",
    ),
    "cancel.edit": (
        "Edición cancelada; no se cambió nada.",
        "Edit cancelled; nothing was changed.",
        "Modification annulée ; rien n'a changé.",
    ),
    "cancel.nothing": (
        "No hay nada que cancelar.",
        "There is nothing to cancel.",
        "Il n'y a rien à annuler.",
    ),
    "error.empty": (
        "La respuesta está vacía. Inténtalo de nuevo.",
        "The answer is empty. Please try again.",
        "La réponse est vide. Veuillez réessayer.",
    ),
    "error.too_long": (
        "Es demasiado largo (máximo {maximum} caracteres). Inténtalo de nuevo.",
        "That is too long (at most {maximum} characters). Please try again.",
        "C'est trop long ({maximum} caractères au plus). Veuillez réessayer.",
    ),
    "error.control_chars": (
        "Contiene caracteres invisibles o de control. Escríbelo de nuevo, por favor.",
        "It contains invisible or control characters. Please type it again.",
        "Cela contient des caractères invisibles ou de contrôle. Veuillez le retaper.",
    ),
    "error.no_letters": (
        "Debe contener al menos una letra.",
        "It must contain at least one letter.",
        "Cela doit contenir au moins une lettre.",
    ),
    "error.email": (
        "Ese correo no parece válido (ejemplo: ana@ejemplo.org). Escríbelo de nuevo o pulsa «Omitir».",
        "That email does not look valid (example: ana@example.org). Type it again or press “Skip”.",
        "Ce courriel ne semble pas valide (exemple : ana@exemple.org). Retapez-le ou appuyez sur « Passer ».",
    ),
    "error.region_unknown": (
        "No reconozco esa provincia o estado. Elige un botón o escribe las dos letras (por ejemplo, CA o TX).",
        "I don't recognise that province or state. Choose a button or type the two letters (for example, CA or TX).",
        "Je ne reconnais pas cette province ou cet État. Choisissez un bouton ou tapez les deux lettres (par exemple, QC ou ON).",
    ),
    "error.choose_button": (
        "Por favor, elige uno de los botones.",
        "Please choose one of the buttons.",
        "Veuillez choisir l'un des boutons.",
    ),
    "error.themes_none": (
        "Marca al menos un tema antes de pulsar «Listo».",
        "Tick at least one theme before pressing “Done”.",
        "Cochez au moins un thème avant d'appuyer sur « Terminé ».",
    ),
    "error.phone_not_own": (
        "Solo aceptamos tu propio número, compartido con el botón.",
        "We only accept your own number, shared with the button.",
        "Nous n'acceptons que votre propre numéro, partagé avec le bouton.",
    ),
    "error.phone": (
        "Ese número no parece válido.",
        "That number does not look valid.",
        "Ce numéro ne semble pas valide.",
    ),
    "error.phone_typed": (
        "Por tu seguridad, no aceptamos teléfonos escritos. Usa el botón «Compartir mi teléfono» o «Omitir».",
        "For your safety we don't accept typed phone numbers. Use the “Share my phone” button or “Skip”.",
        "Pour votre sécurité, nous n'acceptons pas les numéros tapés. Utilisez le bouton « Partager mon téléphone » ou « Passer ».",
    ),
    "error.stale": (
        "Ese botón ya no es válido. Aquí está el paso actual:",
        "That button is no longer valid. Here is the current step:",
        "Ce bouton n'est plus valide. Voici l'étape actuelle :",
    ),
    "error.button_unknown": (
        "Ese botón no es válido o ha caducado.",
        "That button is not valid or has expired.",
        "Ce bouton n'est pas valide ou a expiré.",
    ),
    "error.text_expected": (
        "No puedo usar eso aquí. Responde con texto o con los botones.",
        "I can't use that here. Please answer with text or the buttons.",
        "Je ne peux pas utiliser cela ici. Répondez par du texte ou avec les boutons.",
    ),
    "error.not_allowed": (
        "No tienes permiso para usar ese comando.",
        "You are not allowed to use that command.",
        "Vous n'avez pas le droit d'utiliser cette commande.",
    ),
    "error.unexpected": (
        "Algo salió mal de nuestro lado. No se perdió nada de lo que ya guardamos; inténtalo de nuevo en un momento.",
        "Something went wrong on our side. Nothing already saved was lost; please try again in a moment.",
        "Un problème est survenu de notre côté. Rien de ce qui était enregistré n'a été perdu ; réessayez dans un instant.",
    ),
    "help.header": (
        "<b>Comandos que puedes usar:</b>",
        "<b>Commands you can use:</b>",
        "<b>Commandes que vous pouvez utiliser :</b>",
    ),
    "cmd.start": (
        "empezar o continuar el registro",
        "start or continue registration",
        "commencer ou reprendre l'inscription",
    ),
    "cmd.help": ("ver esta ayuda", "show this help", "afficher cette aide"),
    "cmd.profile": (
        "ver y editar tu perfil",
        "see and edit your profile",
        "voir et modifier votre profil",
    ),
    "cmd.language": ("cambiar el idioma", "change language", "changer de langue"),
    "cmd.mydata": (
        "descargar todos tus datos",
        "download all your data",
        "télécharger toutes vos données",
    ),
    "cmd.deleteme": (
        "borrar tus datos personales",
        "erase your personal data",
        "effacer vos données personnelles",
    ),
    "cmd.cancel": (
        "cancelar el paso actual",
        "cancel the current step",
        "annuler l'étape en cours",
    ),
    "cmd.grant": (
        "dar un rol: /grant @usuario rol [ámbito]",
        "grant a role: /grant @user role [scope]",
        "attribuer un rôle : /grant @utilisateur rôle [portée]",
    ),
    "cmd.revoke": (
        "quitar un rol: /revoke @usuario rol [ámbito]",
        "revoke a role: /revoke @user role [scope]",
        "retirer un rôle : /revoke @utilisateur rôle [portée]",
    ),
    "cmd.pending": (
        "revisar asociaciones propuestas",
        "review proposed associations",
        "examiner les associations proposées",
    ),
    "admin.usage": (
        "Uso: /{command} @usuario|id rol [ámbito]. Roles: {roles}.",
        "Usage: /{command} @user|id role [scope]. Roles: {roles}.",
        "Usage : /{command} @utilisateur|id rôle [portée]. Rôles : {roles}.",
    ),
    "admin.no_such_member": (
        "No encuentro a un miembro registrado con «{reference}».",
        "I can't find a registered member “{reference}”.",
        "Je ne trouve pas de membre inscrit « {reference} ».",
    ),
    "admin.granted": (
        "Rol {role} dado a {name}.",
        "Role {role} granted to {name}.",
        "Rôle {role} attribué à {name}.",
    ),
    "admin.already": (
        "{name} ya tenía el rol {role}.",
        "{name} already had the role {role}.",
        "{name} avait déjà le rôle {role}.",
    ),
    "admin.revoked": (
        "Rol {role} quitado a {name}.",
        "Role {role} revoked from {name}.",
        "Rôle {role} retiré à {name}.",
    ),
    "admin.not_held": (
        "{name} no tenía el rol {role}.",
        "{name} did not have the role {role}.",
        "{name} n'avait pas le rôle {role}.",
    ),
    "admin.pending_none": (
        "No hay asociaciones pendientes.",
        "There are no pending associations.",
        "Aucune association en attente.",
    ),
    "admin.pending_item": (
        "Propuesta #{id}: <b>{name}</b> ({place})",
        "Proposal #{id}: <b>{name}</b> ({place})",
        "Proposition n° {id} : <b>{name}</b> ({place})",
    ),
    "admin.button_approve": ("Aprobar", "Approve", "Approuver"),
    "admin.button_merge": ("Unir con {name}", "Merge into {name}", "Fusionner avec {name}"),
    "admin.approved": (
        "Asociación #{id} aprobada.",
        "Association #{id} approved.",
        "Association n° {id} approuvée.",
    ),
    "admin.merged": (
        "Asociación #{id} unida con #{target}.",
        "Association #{id} merged into #{target}.",
        "Association n° {id} fusionnée avec n° {target}.",
    ),
    "admin.already_done": (
        "Esa propuesta ya fue revisada.",
        "That proposal was already reviewed.",
        "Cette proposition a déjà été examinée.",
    ),
    "admin.error_alert": (
        "Error en consultbot: {error}",
        "Error in consultbot: {error}",
        "Erreur dans consultbot : {error}",
    ),
    "cmd.broadcast": (
        "enviar un aviso a miembros",
        "send a notice to members",
        "envoyer un avis aux membres",
    ),
    "cmd.broadcasts": (
        "ver el estado de los avisos",
        "see the status of notices",
        "voir l'état des avis",
    ),
    "notice.header": ("📢 <b>{programme}</b>", "📢 <b>{programme}</b>", "📢 <b>{programme}</b>"),
    "button.ack": ("✅ He leído esto", "✅ I have read this", "✅ J'ai lu ceci"),
    "ack.thanks": (
        "¡Gracias por confirmar!",
        "Thank you for confirming!",
        "Merci de votre confirmation !",
    ),
    "bc.ask_text": (
        "📝 Escribe el aviso en {lang_name}. Después podrás añadir versiones en otros idiomas. (/cancel para salir)",
        "📝 Type the notice in {lang_name}. You can add versions in other languages next. (/cancel to leave)",
        "📝 Tapez l'avis en {lang_name}. Vous pourrez ensuite ajouter des versions dans d'autres langues. (/cancel pour quitter)",
    ),
    "bc.versions": (
        "Versiones del aviso: {versions}. Quien no tenga su idioma recibirá la versión en {fallback}.",
        "Versions of the notice: {versions}. Members without their language get the {fallback} version.",
        "Versions de l'avis : {versions}. Les membres sans leur langue reçoivent la version {fallback}.",
    ),
    "bc.add_version": ("Añadir {lang_name}", "Add {lang_name}", "Ajouter {lang_name}"),
    "bc.continue": ("Continuar »", "Continue »", "Continuer »"),
    "bc.audience": (
        "<b>Audiencia</b>: {filters}\nDestinatarios ahora: <b>{count}</b>\n\nCada filtro reduce la audiencia; dentro de un filtro, cualquiera de los valores sirve.",
        "<b>Audience</b>: {filters}\nRecipients now: <b>{count}</b>\n\nEach filter narrows the audience; within a filter, any of its values will do.",
        "<b>Public</b> : {filters}\nDestinataires maintenant : <b>{count}</b>\n\nChaque filtre restreint le public ; dans un filtre, n'importe laquelle de ses valeurs convient.",
    ),
    "bc.everyone": ("todos los miembros", "all members", "tous les membres"),
    "bc.filter.country": ("País", "Country", "Pays"),
    "bc.filter.region": ("Provincia/estado", "Province/state", "Province/État"),
    "bc.filter.city": ("Ciudad", "City", "Ville"),
    "bc.filter.sector": ("Sector", "Sector", "Secteur"),
    "bc.filter.theme": ("Tema", "Theme", "Thème"),
    "bc.filter.role": ("Rol", "Role", "Rôle"),
    "bc.filter.association": ("Asociación", "Association", "Association"),
    "bc.clear": ("Quitar filtros", "Clear filters", "Effacer les filtres"),
    "bc.back_to_audience": (
        "« Volver a la audiencia",
        "« Back to the audience",
        "« Retour au public",
    ),
    "bc.ask_regions": (
        "Escribe las provincias o estados separados por comas (por ejemplo: TX, CA, QC).",
        "Type the provinces or states separated by commas (for example: TX, CA, QC).",
        "Tapez les provinces ou États séparés par des virgules (par exemple : TX, CA, QC).",
    ),
    "bc.ask_cities": (
        "Escribe las ciudades separadas por comas (por ejemplo: Houston, Dallas).",
        "Type the cities separated by commas (for example: Houston, Dallas).",
        "Tapez les villes séparées par des virgules (par exemple : Montréal, Laval).",
    ),
    "bc.ask_association": (
        "Escribe parte del nombre de la asociación.",
        "Type part of the association's name.",
        "Tapez une partie du nom de l'association.",
    ),
    "bc.choose": (
        "Marca los valores (varios a la vez si quieres):",
        "Tick the values (several if you like):",
        "Cochez les valeurs (plusieurs si vous voulez) :",
    ),
    "bc.preview": (
        "<b>Vista previa</b> (así lo verán en {lang_name}):\n\n{message}\n\n<b>Destinatarios</b>: {count}\n<b>Envío</b>: {when}\n<b>Horas de entrega</b>: {quiet}\n<b>Botón «He leído esto»</b>: {ack}",
        "<b>Preview</b> (as members will see it in {lang_name}):\n\n{message}\n\n<b>Recipients</b>: {count}\n<b>Sending</b>: {when}\n<b>Delivery hours</b>: {quiet}\n<b>“I have read this” button</b>: {ack}",
        "<b>Aperçu</b> (tel que les membres le verront en {lang_name}) :\n\n{message}\n\n<b>Destinataires</b> : {count}\n<b>Envoi</b> : {when}\n<b>Heures de livraison</b> : {quiet}\n<b>Bouton « J'ai lu ceci »</b> : {ack}",
    ),
    "bc.now": ("ahora", "now", "maintenant"),
    "bc.any_time": ("a cualquier hora", "any time", "à toute heure"),
    "bc.quiet_window": (
        "de {start} a {end}, hora local de cada miembro",
        "{start} to {end}, each member's local time",
        "de {start} à {end}, heure locale de chaque membre",
    ),
    "bc.yes": ("sí", "yes", "oui"),
    "bc.no": ("no", "no", "non"),
    "bc.toggle_ack": (
        "Botón «He leído esto»",
        "“I have read this” button",
        "Bouton « J'ai lu ceci »",
    ),
    "bc.toggle_quiet": (
        "Solo de 09:00 a 21:00 locales",
        "Only 09:00–21:00 local",
        "Seulement 09:00–21:00 locales",
    ),
    "bc.schedule": ("🕒 Programar", "🕒 Schedule", "🕒 Programmer"),
    "bc.send_now": ("Enviar ahora", "Send now", "Envoyer maintenant"),
    "bc.send": ("✅ Confirmar envío", "✅ Confirm sending", "✅ Confirmer l'envoi"),
    "bc.cancel": ("✖ Cancelar", "✖ Cancel", "✖ Annuler"),
    "bc.ask_when": (
        "¿Cuándo? Escribe fecha y hora en tu zona ({zone}), así: 2026-12-05 18:00",
        "When? Type the date and time in your zone ({zone}), like this: 2026-12-05 18:00",
        "Quand ? Tapez la date et l'heure dans votre fuseau ({zone}), ainsi : 2026-12-05 18:00",
    ),
    "bc.cancelled": (
        "Aviso cancelado; no se envió nada.",
        "Notice cancelled; nothing was sent.",
        "Avis annulé ; rien n'a été envoyé.",
    ),
    "bc.no_recipients": (
        "Nadie coincide con esa audiencia; cambia los filtros.",
        "Nobody matches that audience; change the filters.",
        "Personne ne correspond à ce public ; modifiez les filtres.",
    ),
    "bc.progress": (
        "📣 Aviso #{id} — enviados <b>{sent}</b> de {total}; pendientes {pending}; bloqueados {blocked}; fallidos {failed}.{eta}{acks}",
        "📣 Notice #{id} — sent <b>{sent}</b> of {total}; pending {pending}; blocked {blocked}; failed {failed}.{eta}{acks}",
        "📣 Avis n° {id} — envoyés <b>{sent}</b> sur {total} ; en attente {pending} ; bloqués {blocked} ; échecs {failed}.{eta}{acks}",
    ),
    "bc.eta": (" Tiempo restante ≈ {eta}.", " Time left ≈ {eta}.", " Temps restant ≈ {eta}."),
    "bc.acks": (
        " Confirmaron lectura: {acked}.",
        " Confirmed reading: {acked}.",
        " Ont confirmé la lecture : {acked}.",
    ),
    "bc.report": (
        "✅ Aviso #{id} terminado: enviados <b>{sent}</b> de {total}; bloqueados {blocked}; fallidos {failed}.{acks}",
        "✅ Notice #{id} finished: sent <b>{sent}</b> of {total}; blocked {blocked}; failed {failed}.{acks}",
        "✅ Avis n° {id} terminé : envoyés <b>{sent}</b> sur {total} ; bloqués {blocked} ; échecs {failed}.{acks}",
    ),
    "bc.stop": ("⏹ Detener el envío", "⏹ Stop sending", "⏹ Arrêter l'envoi"),
    "bc.stopped": (
        "⏹ Aviso #{id} detenido: enviados <b>{sent}</b> de {total}; no enviados {pending}; bloqueados {blocked}; fallidos {failed}.{acks}",
        "⏹ Notice #{id} stopped: sent <b>{sent}</b> of {total}; not sent {pending}; blocked {blocked}; failed {failed}.{acks}",
        "⏹ Avis n° {id} arrêté : envoyés <b>{sent}</b> sur {total} ; non envoyés {pending} ; bloqués {blocked} ; échecs {failed}.{acks}",
    ),
    "bc.status_none": (
        "Todavía no hay avisos.",
        "There are no notices yet.",
        "Il n'y a pas encore d'avis.",
    ),
    "error.quiet_hours": (
        "Escribe la ventana así: 09:00-21:00.",
        "Type the window like this: 09:00-21:00.",
        "Tapez la plage ainsi : 09:00-21:00.",
    ),
    "error.send_time": (
        "No entiendo esa fecha. Escríbela así: 2026-12-05 18:00",
        "I can't read that date. Type it like this: 2026-12-05 18:00",
        "Je ne comprends pas cette date. Tapez-la ainsi : 2026-12-05 18:00",
    ),
    "error.send_time_past": (
        "Esa hora ya pasó; elige una futura.",
        "That time has passed; choose a future one.",
        "Cette heure est passée ; choisissez-en une à venir.",
    ),
}


def main() -> None:
    root = Path(__file__).resolve().parent.parent / "bot" / "locales"
    for index, language in enumerate(("es", "en", "fr")):
        catalog = Catalog(locale=language, project="consultbot", version="1", charset="utf-8")
        for key, texts in T.items():
            catalog.add(key, texts[index])
        folder = root / language / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "messages.po").open("wb") as handle:
            write_po(handle, catalog, width=0, omit_header=False)


if __name__ == "__main__":
    main()

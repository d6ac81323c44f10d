# The follow-up board, an action's page, the reminders, and the reminder e-mails.
board-title = Suivi des actions
board-read-only = Lecture seule : vous ne pouvez pas modifier les actions de cette région.
board-column-empty = Aucune action.
board-column-count = { $count ->
    [one] { $n } action
   *[other] { $n } actions
}
board-overdue = En retard
board-days-late = { $count ->
    [one] en retard d’{ $n } jour
   *[other] en retard de { $n } jours
}
board-due-in = { $count ->
    [0] échéance aujourd’hui
    [one] échéance dans { $n } jour
   *[other] échéance dans { $n } jours
}
board-due = Échéance
board-no-due = Sans échéance
board-owner = Organisme responsable
board-progress = Avancement
board-truncated = Seules les { $n } premières actions sont affichées : choisissez une région.
board-open = Ouvrir la fiche
board-facts = Fiche de l’action
board-consultation = Consultation
board-recommendations = Recommandations suivies
board-status = Statut
board-status-reason = Motif du statut
board-description = Description
board-budget = Budget
board-region = Région
board-reports = Comptes rendus d’avancement
board-report-date = Date
board-report-note = Note
board-report-reason = Motif du recul
board-no-reports = Aucun compte rendu pour l’instant.
board-deadlines = Historique de l’échéance
board-deadline-initial = Échéance fixée à la création : { $due }
board-no-deadline-change = L’échéance n’a jamais été reportée.
board-history = Historique des modifications
board-history-when = Date
board-history-what = Modification
board-history-who = Par
board-history-why = Motif
board-history-hidden = L’historique détaillé (auteurs et motifs) est réservé aux rédacteurs de la région, aux administrateurs et aux auditeurs.
board-event-action-created = Action créée
board-event-progress-reported = Avancement signalé
board-event-action-status-changed = Statut modifié
board-event-action-reopened = Action rouverte
board-event-deadline-extended = Échéance reportée
board-event-owner-reassigned = Responsable changé
board-event-budget-revised = Budget révisé
board-update = Mettre à jour le suivi
board-finished = Cette action est terminée ou annulée : seule sa réouverture est possible.
board-form-progress = Signaler l’avancement
board-form-deadline = Reporter l’échéance
board-form-owner = Changer d’organisme responsable
board-form-start = Marquer en cours
board-form-block = Signaler un blocage
board-form-complete = Marquer comme terminée
board-form-cancel = Annuler l’action
board-form-reopen = Rouvrir l’action
board-field-on = Date du compte rendu
board-field-progress = Avancement (0 à 100 %)
board-field-note = Note
board-field-progress-reason = Motif, si l’avancement recule
board-field-year = Année
board-field-month = Mois (1 à 12, facultatif)
board-field-day = Jour (facultatif)
board-field-reason = Motif
board-field-owner = Nouvel organisme responsable
board-saved = Modification enregistrée.
board-conflict = Quelqu’un a modifié cette action depuis l’ouverture du formulaire. Voici ce qui a changé ; votre saisie est conservée : vérifiez-la puis enregistrez de nouveau pour l’appliquer à la version actuelle.
board-back = Retour au tableau de suivi
reminders-title = Rappels
reminders-intro = Actions non terminées en retard ou arrivant à échéance dans les 30 prochains jours, dans vos régions.
reminders-overdue = En retard
reminders-due-soon = À échéance dans les 30 jours
reminders-none-overdue = Aucune action en retard.
reminders-none-due-soon = Aucune échéance dans les 30 prochains jours.
remind-subject = { $count ->
    [one] Shura : { $n } action à suivre
   *[other] Shura : { $n } actions à suivre
}
remind-greeting = Bonjour { $name },
remind-intro = Voici les actions de suivi en retard ou arrivant à échéance dans les 30 prochains jours.
remind-region = Région : { $region }
remind-overdue = En retard :
remind-due-soon = À échéance dans les 30 jours :
remind-line = - { $title } | échéance : { $due } | avancement : { $progress } %
remind-footer = Message envoyé automatiquement par Shura ; merci de ne pas y répondre.

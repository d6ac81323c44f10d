# The stakeholders pages.
stakeholders-title = Acteurs
stakeholders-search = Rechercher un nom
stakeholders-search-hint = Un ou plusieurs mots du nom, du sigle ou d’un ancien nom, en arabe ou en français.
stakeholders-search-submit = Rechercher
stakeholders-region-filter = Région (organismes)
stakeholders-search-too-long = Le texte recherché est trop long (200 caractères au plus).
stakeholders-search-too-many-words = { $count ->
    [one] Cherchez avec un seul mot.
   *[other] Cherchez avec { $n } mots au plus.
}
stakeholders-organisations = Organismes
stakeholders-people = Personnes
stakeholders-none = Aucun résultat.
stakeholders-organisations-count = { $count ->
    [0] Aucun organisme
    [one] { $n } organisme
   *[other] { $n } organismes
}
stakeholders-people-count = { $count ->
    [0] Aucune personne
    [one] { $n } personne
   *[other] { $n } personnes
}
stakeholders-next-organisations = Organismes suivants
stakeholders-next-people = Personnes suivantes
stakeholder-back = Retour aux acteurs
stakeholder-facts = Fiche
stakeholder-name = Nom
stakeholder-name-ar = Nom en arabe
stakeholder-name-fr = Nom en français
stakeholder-name-arabic = Nom en arabe
stakeholder-name-latin = Nom en caractères latins
stakeholder-honorific = Titre de civilité
stakeholder-acronym = Sigle
stakeholder-kind = Type
stakeholder-region = Région
stakeholder-national = Niveau national
stakeholder-parent = Rattaché à
stakeholder-former-names = Anciennes dénominations
stakeholder-until = jusqu’à { $date }
stakeholder-members = Personnes y occupant ou y ayant occupé une fonction
stakeholder-no-members = Aucune fonction enregistrée dans cet organisme.
stakeholder-person = Personne
stakeholder-organisation = Organisme
stakeholder-post-title = Fonction
stakeholder-period = Période
stakeholder-post-since = depuis { $from }
stakeholder-post-until = jusqu’à { $to }
stakeholder-post-ended = terminée
stakeholder-current-posts = Fonctions actuelles
stakeholder-posts = Fonctions
stakeholder-no-posts = Aucune fonction enregistrée.
stakeholder-consultations = Consultations auxquelles il a pris part
stakeholder-no-consultations = Aucune consultation enregistrée.
stakeholder-consultations-capped = Seules les 100 premières consultations sont affichées.
stakeholder-consultation = Consultation
stakeholder-date = Date
stakeholder-status = Statut
stakeholder-contacts = Coordonnées
stakeholder-no-contacts = Aucune coordonnée enregistrée.
stakeholder-email = Courriel
stakeholder-phone = Téléphone
stakeholder-contacts-hidden = { $count ->
    [one] Une coordonnée n’est pas affichée : elle est réservée aux administrateurs, aux auditeurs et aux éditeurs de la région de la consultation.
   *[other] { $n } coordonnées ne sont pas affichées : elles sont réservées aux administrateurs, aux auditeurs et aux éditeurs de la région de la consultation.
}
organisation-kind-ministry = Ministère
organisation-kind-ministry-delegate = Ministère délégué
organisation-kind-secretariat-of-state = Secrétariat d’État
organisation-kind-directorate = Direction centrale
organisation-kind-regional-directorate = Direction régionale
organisation-kind-wilaya = Wilaya
organisation-kind-prefecture = Préfecture
organisation-kind-province = Province
organisation-kind-regional-council = Conseil régional
organisation-kind-chamber = Chambre professionnelle
organisation-kind-federation = Fédération professionnelle
organisation-kind-confederation = Confédération
organisation-kind-agency = Agence publique
organisation-kind-public-office = Office public
organisation-kind-public-institution = Établissement public
organisation-kind-company = Entreprise
organisation-kind-university = Université
organisation-kind-foundation = Fondation
organisation-kind-international-organisation = Organisation internationale
organisation-kind-competitiveness-cluster = Cluster de compétitivité
organisation-kind-consultancy = Bureau d’études
organisation-kind-standards-body = Organisme de normalisation
organisation-kind-technical-centre = Centre technique
organisation-kind-association = Association ou réseau
organisation-kind-cooperative = Coopérative
organisation-kind-other = Autre
stakeholder-history = Historique dans le journal

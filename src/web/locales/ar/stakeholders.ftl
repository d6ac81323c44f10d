# The stakeholders pages.
stakeholders-title = الفاعلون
stakeholders-search = البحث عن اسم
stakeholders-search-hint = كلمة أو أكثر من الاسم أو المختصر أو اسم سابق، بالعربية أو بالفرنسية.
stakeholders-search-submit = بحث
stakeholders-region-filter = الجهة (الهيئات)
stakeholders-search-too-long = نص البحث طويل جدا (200 حرف على الأكثر).
stakeholders-search-too-many-words = { $count ->
    [one] ابحث بكلمة واحدة.
    [two] ابحث بكلمتين على الأكثر.
    [few] ابحث بـ{ $n } كلمات على الأكثر.
   *[other] ابحث بـ{ $n } كلمة على الأكثر.
}
stakeholders-organisations = الهيئات
stakeholders-people = الأشخاص
stakeholders-none = لا توجد نتائج.
stakeholders-organisations-count = { $count ->
    [zero] لا توجد أي هيئة
    [one] هيئة واحدة
    [two] هيئتان
    [few] { $n } هيئات
    [many] { $n } هيئة
   *[other] { $n } هيئة
}
stakeholders-people-count = { $count ->
    [zero] لا يوجد أي شخص
    [one] شخص واحد
    [two] شخصان
    [few] { $n } أشخاص
    [many] { $n } شخصا
   *[other] { $n } شخص
}
stakeholders-next-organisations = الهيئات التالية
stakeholders-next-people = الأشخاص التالون
stakeholder-back = العودة إلى الفاعلين
stakeholder-facts = البطاقة
stakeholder-name = الاسم
stakeholder-name-ar = الاسم بالعربية
stakeholder-name-fr = الاسم بالفرنسية
stakeholder-name-arabic = الاسم بالعربية
stakeholder-name-latin = الاسم بالحروف اللاتينية
stakeholder-honorific = صفة المخاطبة
stakeholder-acronym = المختصر
stakeholder-kind = النوع
stakeholder-region = الجهة
stakeholder-national = المستوى الوطني
stakeholder-parent = تابعة لـ
stakeholder-former-names = التسميات السابقة
stakeholder-until = إلى غاية { $date }
stakeholder-members = الأشخاص الذين يشغلون أو شغلوا مهمة بها
stakeholder-no-members = لا توجد أي مهمة مسجلة في هذه الهيئة.
stakeholder-person = الشخص
stakeholder-organisation = الهيئة
stakeholder-post-title = المهمة
stakeholder-period = الفترة
stakeholder-post-since = منذ { $from }
stakeholder-post-until = إلى غاية { $to }
stakeholder-post-ended = انتهت
stakeholder-current-posts = المهام الحالية
stakeholder-posts = المهام
stakeholder-no-posts = لا توجد أي مهمة مسجلة.
stakeholder-consultations = المشاورات التي شارك فيها
stakeholder-no-consultations = لا توجد أي مشاورة مسجلة.
stakeholder-consultations-capped = تُعرض أول 100 مشاورة فقط.
stakeholder-consultation = المشاورة
stakeholder-date = التاريخ
stakeholder-status = الحالة
stakeholder-contacts = معلومات الاتصال
stakeholder-no-contacts = لا توجد أي معلومات اتصال مسجلة.
stakeholder-email = البريد الإلكتروني
stakeholder-phone = الهاتف
stakeholder-contacts-hidden = { $count ->
    [one] معلومة اتصال واحدة غير معروضة: يطلع عليها المتصرفون والمدققون ومحررو جهة المشاورة فقط.
    [two] معلومتا اتصال غير معروضتين: يطلع عليهما المتصرفون والمدققون ومحررو جهة المشاورة فقط.
    [few] { $n } معلومات اتصال غير معروضة: يطلع عليها المتصرفون والمدققون ومحررو جهة المشاورة فقط.
   *[other] { $n } معلومة اتصال غير معروضة: يطلع عليها المتصرفون والمدققون ومحررو جهة المشاورة فقط.
}
organisation-kind-ministry = وزارة
organisation-kind-ministry-delegate = وزارة منتدبة
organisation-kind-secretariat-of-state = كتابة الدولة
organisation-kind-directorate = مديرية مركزية
organisation-kind-regional-directorate = مديرية جهوية
organisation-kind-wilaya = ولاية
organisation-kind-prefecture = عمالة
organisation-kind-province = إقليم
organisation-kind-regional-council = مجلس الجهة
organisation-kind-chamber = غرفة مهنية
organisation-kind-federation = جامعة مهنية
organisation-kind-confederation = اتحاد
organisation-kind-agency = وكالة عمومية
organisation-kind-public-office = مكتب عمومي
organisation-kind-public-institution = مؤسسة عمومية
organisation-kind-company = مقاولة
organisation-kind-university = جامعة
organisation-kind-foundation = مؤسسة
organisation-kind-international-organisation = منظمة دولية
organisation-kind-competitiveness-cluster = قطب تنافسية
organisation-kind-consultancy = مكتب دراسات
organisation-kind-standards-body = هيئة التقييس
organisation-kind-technical-centre = مركز تقني
organisation-kind-association = جمعية أو شبكة
organisation-kind-cooperative = تعاونية
organisation-kind-other = أخرى
stakeholder-history = السجل التاريخي في دفتر الأحداث

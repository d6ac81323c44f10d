# The meeting pages: "Log a meeting", the guided flow.
meeting-new-title = تسجيل اجتماع
meeting-step-title = تسجيل اجتماع: { $step }
meeting-steps = مراحل التسجيل
meeting-step-plan = البرمجة
meeting-step-participants = المشاركون
meeting-step-recommendations = التوصيات
meeting-step-agreements = الاتفاقيات
meeting-step-actions = إجراءات التتبع
meeting-step-held = الانعقاد
meeting-step-close = الإغلاق
meeting-next = المرحلة الموالية: { $step }
meeting-status = الحالة:
meeting-saved = تم الحفظ.
meeting-read-only = هذه المشاورة تابعة لجهة لا يسمح لك دورك بالكتابة فيها: الصفحة للاطلاع فقط.
meeting-not-offered = لا يمكن القيام بهذه المرحلة والمشاورة في حالة «{ $status }».
meeting-conflict = عدّل شخص آخر هذه المشاورة منذ فتحك لهذه الاستمارة. راجع التغييرات أدناه؛ ما أدخلته محفوظ، وإعادة الإرسال تضيفه فوق هذه التغييرات.
meeting-already-sent = سبق إرسال هذه الاستمارة بمحتوى مختلف. أعد تحميل الصفحة وأدخل المعطيات من جديد.
meeting-changes = التغييرات منذ فتح الاستمارة
meeting-search = بحث
meeting-no-match = لا توجد نتيجة مطابقة.
meeting-matches = النتائج: اختر واحدة
meeting-form-plan = تفاصيل الاجتماع
meeting-form-revise = تصحيح التفاصيل
meeting-form-participant = تسجيل مشارك
meeting-form-organisation = هيئة غير موجودة؟ سجّلها هنا
meeting-form-person = شخص غير موجود؟ سجّله هنا
meeting-form-recommendation = إضافة توصية
meeting-form-agreement = تسجيل اتفاقية
meeting-form-signatory = إضافة طرف موقّع
meeting-form-action = إضافة إجراء للتتبع
meeting-form-held = تأكيد انعقاد الاجتماع
meeting-form-close = إغلاق ملف الاجتماع
meeting-submit-plan = حفظ والانتقال إلى المشاركين
meeting-submit-revise = حفظ التصحيح
meeting-submit-participant = تسجيل المشارك
meeting-submit-organisation = تسجيل الهيئة
meeting-submit-person = تسجيل الشخص
meeting-submit-recommendation = حفظ التوصية
meeting-submit-agreement = حفظ الاتفاقية
meeting-submit-signatory = إضافة الطرف
meeting-submit-action = حفظ الإجراء
meeting-submit-held = انعقد الاجتماع
meeting-submit-close = إغلاق الملف
meeting-field-id = المعرّف
meeting-field-kind = نوع الاجتماع
meeting-field-title-ar = العنوان بالعربية
meeting-field-title-fr = العنوان بالفرنسية
meeting-field-start-year = سنة البداية
meeting-field-start-month = شهر البداية (1-12)
meeting-field-start-day = يوم البداية
meeting-field-start-time = ساعة البداية
meeting-field-end-year = سنة النهاية
meeting-field-end-month = شهر النهاية
meeting-field-end-day = يوم النهاية
meeting-field-as-stated-ar = التاريخ كما ورد (بالعربية)، مثلا «الثلاثاء المقبل»
meeting-field-as-stated-fr = التاريخ كما ورد (بالفرنسية)
meeting-field-place-ar = المكان بالعربية
meeting-field-place-fr = المكان بالفرنسية
meeting-field-city-ar = المدينة بالعربية
meeting-field-city-fr = المدينة بالفرنسية
meeting-field-region = الجهة
meeting-field-purpose-ar = الهدف بالعربية
meeting-field-purpose-fr = الهدف بالفرنسية
meeting-field-organiser = الجهة المنظمة
meeting-field-source-publisher-ar = المصدر: الناشر بالعربية
meeting-field-source-publisher-fr = المصدر: الناشر بالفرنسية
meeting-field-source-title-ar = المصدر: العنوان بالعربية
meeting-field-source-title-fr = المصدر: العنوان بالفرنسية
meeting-field-source-url = المصدر: الرابط
meeting-field-source-year = المصدر: سنة النشر
meeting-field-source-month = المصدر: شهر النشر
meeting-field-source-day = المصدر: يوم النشر
meeting-field-reason = سبب التصحيح
meeting-field-person = الشخص
meeting-field-organisation = الهيئة الممثَّلة
meeting-field-capacity-ar = الصفة بالعربية
meeting-field-capacity-fr = الصفة بالفرنسية
meeting-field-role = الدور في الاجتماع
meeting-field-attendance = الحضور
meeting-field-name-ar = الاسم بالعربية
meeting-field-name-fr = الاسم بالفرنسية
meeting-field-acronym = الاسم المختصر
meeting-field-organisation-kind = نوع الهيئة
meeting-field-name-arabic = الاسم بالحروف العربية
meeting-field-name-latin = الاسم بالحروف اللاتينية
meeting-field-text-ar = نص التوصية بالعربية
meeting-field-text-fr = نص التوصية بالفرنسية
meeting-field-themes = المحاور (مفصولة بفواصل)
meeting-field-proposer = صاحب الاقتراح
meeting-field-agreement-kind = نوع الاتفاقية
meeting-field-agreement-status = وضعية الاتفاقية
meeting-field-budget = الميزانية
meeting-field-currency = العملة
meeting-field-period-start = سنة بداية الفترة
meeting-field-period-end = سنة نهاية الفترة
meeting-field-programme-ar = البرنامج بالعربية
meeting-field-programme-fr = البرنامج بالفرنسية
meeting-field-signed-year = سنة التوقيع
meeting-field-signed-month = شهر التوقيع
meeting-field-signed-day = يوم التوقيع
meeting-field-agreement = الاتفاقية
meeting-field-party = الهيئة الطرف
meeting-field-signatory = الموقّع
meeting-field-commitment-ar = الالتزام بالعربية
meeting-field-commitment-fr = الالتزام بالفرنسية
meeting-field-owner = الهيئة المسؤولة
meeting-field-due-year = سنة الأجل
meeting-field-due-month = شهر الأجل
meeting-field-due-day = يوم الأجل
meeting-field-follows = تتبع التوصية
meeting-fact-when = التاريخ
meeting-fact-as-stated = كما ورد
meeting-fact-place = المكان
meeting-fact-organisers = المنظمون
meeting-fact-purpose = الهدف
meeting-fact-recorded = المسجَّل
meeting-column-capacity = الصفة
meeting-column-text = النص
meeting-column-status = الحالة
meeting-column-title = العنوان
meeting-column-period = الفترة
meeting-column-parties = الأطراف
meeting-column-due = الأجل
meeting-column-progress = نسبة الإنجاز
meeting-participants-count = { $count ->
    [zero] لا مشارك
    [one] مشارك واحد
    [two] مشاركان
    [few] { $n } مشاركين
    [many] { $n } مشاركًا
   *[other] { $n } مشارك
}
meeting-recommendations-count = { $count ->
    [zero] لا توصية
    [one] توصية واحدة
    [two] توصيتان
    [few] { $n } توصيات
    [many] { $n } توصية
   *[other] { $n } توصية
}
meeting-agreements-count = { $count ->
    [zero] لا اتفاقية
    [one] اتفاقية واحدة
    [two] اتفاقيتان
    [few] { $n } اتفاقيات
    [many] { $n } اتفاقية
   *[other] { $n } اتفاقية
}
meeting-actions-count = { $count ->
    [zero] لا إجراء للتتبع
    [one] إجراء واحد للتتبع
    [two] إجراءان للتتبع
    [few] { $n } إجراءات للتتبع
    [many] { $n } إجراءً للتتبع
   *[other] { $n } إجراء للتتبع
}
meeting-role-chair = الرئاسة
meeting-role-co-chair = الرئاسة المشتركة
meeting-role-host = المستضيف
meeting-role-organiser = المنظم
meeting-role-co-organiser = المنظم المشارك
meeting-role-supervisor = الإشراف
meeting-role-speaker = متدخل
meeting-role-attendee = مشارك
meeting-role-signatory = موقّع
meeting-role-guest = ضيف
meeting-attendance-invited = مدعو
meeting-attendance-attended = حاضر
meeting-attendance-absent = غائب
meeting-agreement-kind-framework-agreement = اتفاقية إطار
meeting-agreement-kind-partnership-agreement = اتفاقية شراكة
meeting-agreement-kind-amendment = ملحق تعديلي
meeting-agreement-kind-contract-programme = عقد برنامج
meeting-agreement-kind-memorandum = مذكرة تفاهم
meeting-agreement-kind-other = أخرى
meeting-agreement-status-signed = موقّعة
meeting-agreement-status-envisaged = مرتقبة
meeting-agreement-status-previous = سابقة
meeting-field-scope-level = نطاق الاتفاقية (أين تُحتسب الميزانية)
meeting-field-scope-region = الجهة المعنية (للنطاق الجهوي، مثال MA-03)
meeting-scope-level-national = وطني
meeting-scope-level-regional = جهوي
meeting-organisation-kind-ministry = وزارة
meeting-organisation-kind-ministry-delegate = وزارة منتدبة
meeting-organisation-kind-secretariat-of-state = كتابة الدولة
meeting-organisation-kind-directorate = مديرية مركزية
meeting-organisation-kind-regional-directorate = مديرية جهوية
meeting-organisation-kind-wilaya = ولاية
meeting-organisation-kind-prefecture = عمالة
meeting-organisation-kind-province = إقليم
meeting-organisation-kind-regional-council = مجلس الجهة
meeting-organisation-kind-chamber = غرفة مهنية
meeting-organisation-kind-federation = جامعة مهنية
meeting-organisation-kind-confederation = كونفدرالية
meeting-organisation-kind-agency = وكالة عمومية
meeting-organisation-kind-public-office = مكتب عمومي
meeting-organisation-kind-public-institution = مؤسسة عمومية
meeting-organisation-kind-company = مقاولة
meeting-organisation-kind-university = جامعة
meeting-organisation-kind-foundation = مؤسسة
meeting-organisation-kind-international-organisation = منظمة دولية
meeting-organisation-kind-competitiveness-cluster = قطب تنافسية
meeting-organisation-kind-consultancy = مكتب دراسات
meeting-organisation-kind-standards-body = هيئة تقييس
meeting-organisation-kind-technical-centre = مركز تقني
meeting-organisation-kind-association = جمعية
meeting-organisation-kind-cooperative = تعاونية
meeting-organisation-kind-other = أخرى
meeting-event-consultation-planned = برمجة المشاورة
meeting-event-consultation-details-revised = تصحيح التفاصيل
meeting-event-consultation-held = انعقاد المشاورة
meeting-event-consultation-closed = إغلاق الملف
meeting-event-consultation-cancelled = إلغاء المشاورة
meeting-event-organiser-added = إضافة جهة منظمة
meeting-event-source-added = إضافة مصدر
meeting-event-context-note-added = إضافة ملاحظة سياقية
meeting-event-participant-registered = تسجيل مشارك
meeting-event-participant-role-changed = تغيير دور مشارك
meeting-event-attendance-recorded = تسجيل الحضور
meeting-event-participant-contact-changed = تغيير بيانات الاتصال
meeting-event-recommendation-proposed = اقتراح توصية
meeting-event-recommendation-status-changed = البت في توصية
meeting-event-recommendation-text-revised = تعديل نص توصية
meeting-event-agreement-recorded = تسجيل اتفاقية
meeting-event-agreement-signatory-added = إضافة طرف موقّع
meeting-event-agreement-budget-revised = مراجعة ميزانية اتفاقية
meeting-event-agreement-scope-changed = تغيير نطاق اتفاقية
meeting-event-key-figure-recorded = تسجيل رقم رئيسي
meeting-event-point-raised = تسجيل نقطة مثارة

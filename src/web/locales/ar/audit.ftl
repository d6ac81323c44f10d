# The audit pages.
audit-title = تدقيق السجل
audit-chain = حالة السلسلة
audit-head-position = موضع آخر حدث
audit-head-hash = البصمة (SHA-256)
audit-checkpoint = آخر نقطة مراقبة موقعة
audit-checkpoint-position = الموضع الموقع
audit-checkpoint-made = أنشئت في
audit-checkpoint-key = المفتاح
audit-no-checkpoint = لا توجد أي نقطة مراقبة موقعة حتى الآن.
audit-verify = التحقق
audit-verify-explain = يعيد حساب سلسلة البصمات كاملة ويراقب المواضع وإصدارات التدفقات وآخر حدث. يقرأ السجل بأكمله، وقد يستغرق ذلك بعض الوقت.
audit-verify-submit = التحقق من السجل
audit-verify-ok = السجل سليم إلى غاية الموضع { $position }.
audit-verify-broken = السجل معدَّل: لم تعد السلسلة قابلة للتحقق.
audit-verify-first-problem = أول خلل، في الموضع { $position }:
audit-verify-events = { $count ->
    [zero] لا يوجد أي حدث
    [one] حدث واحد
    [two] حدثان
    [few] { $n } أحداث
    [many] { $n } حدثا
   *[other] { $n } حدث
}
audit-verify-streams = { $count ->
    [zero] لا يوجد أي تدفق
    [one] تدفق واحد
    [two] تدفقان
    [few] { $n } تدفقات
    [many] { $n } تدفقا
   *[other] { $n } تدفق
}
audit-exports = التصدير
audit-export-log = تنزيل السجل (NDJSON)
audit-export-log-explain = السجل كاملا، حدث في كل سطر، مع البيانات الوصفية والبصمات، كما يكتبه الأمر «shura export»: يمكن استيراده من جديد والتحقق منه.
audit-export-open-data = تُنتَج البيانات المفتوحة (ملفات CSV وdatapackage.json، دون معطيات شخصية) على الخادم بالأمر:
audit-feed = تدفق الأحداث
audit-filter-stream-type = نوع التدفق
audit-filter-all = الكل
audit-filter-actor = المنفذ (المعرف أو الاسم)
audit-filter-from-position = ابتداء من الموضع
audit-filter-from-position-hint = فارغ: الأحدث أولا.
audit-feed-newest-first = الأحدث أولا.
audit-feed-by-position = حسب ترتيب المواضع.
audit-feed-empty = لا يوجد أي حدث مطابق.
audit-feed-stopped = توقف البحث بعد تصفح 5.000 حدث؛ تابع للبحث أبعد.
audit-feed-next = الصفحة التالية
audit-position = الموضع
audit-time = سُجّل في
audit-stream = التدفق
audit-event-type = الحدث
audit-actor = المنفذ
audit-reason = السبب
audit-stream-title = تاريخ تدفق
audit-back = العودة إلى التدقيق
audit-open-record = فتح البطاقة
audit-stream-id = المعرف
audit-stream-events = الأحداث
audit-version = الإصدار { $version }
audit-correlation-id = الربط
audit-causation-id = المسبب
audit-idempotency-key = مفتاح عدم التكرار
audit-event-id = معرف الحدث
audit-schema-version = إصدار البنية
audit-payload = المحتوى
stream-type-organisation = هيئة
stream-type-person = شخص
stream-type-consultation = مشاورة
stream-type-action = إجراء تتبع
stream-type-token = رمز ولوج
stream-type-user = مستخدم
role-admin = متصرف
role-editor = محرر
role-viewer = قارئ
role-auditor = مدقق
users-title = المستخدمون
users-accounts = الحسابات
users-username = اسم المستخدم
users-username-format = من 3 إلى 64 حرفا: حروف لاتينية صغيرة وأرقام ونقطة وشرطة وشرطة سفلية.
users-display-name = الاسم المعروض
users-role = الدور
users-regions = الجهات
users-regions-hint = الجهات التي يحق للمحرر الكتابة فيها.
users-state = الوضعية
users-state-active = نشط
users-state-disabled = معطل
users-password = كلمة المرور
users-password-set = محددة
users-password-none = غير محددة
users-actions = الإجراءات
users-disable = تعطيل { $name }
users-enable = إعادة تفعيل { $name }
users-new = مستخدم جديد
users-initial-password = كلمة المرور الأولية
users-password-hint = 12 حرفا على الأقل؛ يُستحسن استعمال عبارة مرور.
users-password-confirmation = تأكيد كلمة المرور
users-password-too-short = يجب أن تتكون كلمة المرور من { $min } حرفا على الأقل.
users-password-mismatch = كلمتا المرور غير متطابقتين.
users-create = إنشاء المستخدم
users-created = تم إنشاء المستخدم { $name }.
users-disabled = تم تعطيل المستخدم { $name } وإغلاق جلساته.
users-enabled = تمت إعادة تفعيل المستخدم { $name }.
users-email = البريد الإلكتروني
users-email-hint = اختياري: تُرسل إليه تذكيرات التتبع.
users-email-format = أدخل عنوان بريد إلكتروني صحيحا (الاسم@النطاق).

app-name = شورى
skip-to-content = الانتقال إلى المحتوى
language-switch = اللغة
signout = تسجيل الخروج
nav-label = القائمة الرئيسية
nav-dashboard = لوحة القيادة
nav-consultations = المشاورات
nav-new-meeting = تسجيل اجتماع
nav-board = التتبع
nav-reminders = التذكيرات
nav-stakeholders = الفاعلون
nav-audit = التدقيق
nav-users = المستخدمون
back-home = العودة إلى لوحة القيادة
error-title = خطأ
error-forbidden = لا يحق لك الوصول إلى هذه الصفحة.
error-forbidden-write = دورك لا يسمح بالكتابة هنا (قراءة فقط لهذه الجهة).
error-not-found = هذه الصفحة أو هذا السجل غير موجود.
error-csrf = انتهت صلاحية هذه الاستمارة. أعد تحميل الصفحة وحاول من جديد؛ لم يُسجَّل أي شيء.
error-bad-request = الطلب غير سليم.
error-internal = حدث خطأ داخلي وتم تسجيله. حاول مرة أخرى بعد قليل.
signin-title = تسجيل الدخول
signin-username = اسم المستخدم
signin-password = كلمة المرور
signin-submit = دخول
signin-wrong = اسم المستخدم أو كلمة المرور غير صحيحة.
signin-too-many = محاولات فاشلة كثيرة. حاول مرة أخرى بعد دقيقة.
value-unknown = غير معروف
nothing-yet = لا شيء حتى الآن.
table-what = العنصر
table-count = العدد
table-programme = البرنامج
table-amount = المبلغ
filter-region = الجهة
filter-all-regions = كل الجهات
filter-from = من
filter-to = إلى
filter-theme = المحور
filter-apply = تصفية
date-unknown = تاريخ غير معروف
month-1 = يناير
month-2 = فبراير
month-3 = مارس
month-4 = أبريل
month-5 = ماي
month-6 = يونيو
month-7 = يوليوز
month-8 = غشت
month-9 = شتنبر
month-10 = أكتوبر
month-11 = نونبر
month-12 = دجنبر
weekday-monday = الاثنين
weekday-tuesday = الثلاثاء
weekday-wednesday = الأربعاء
weekday-thursday = الخميس
weekday-friday = الجمعة
weekday-saturday = السبت
weekday-sunday = الأحد
recommendation-status-proposed = مقترحة
recommendation-status-accepted = مقبولة
recommendation-status-rejected = مرفوضة
recommendation-status-merged = مدمجة
action-status-not-started = لم يبدأ
action-status-in-progress = قيد الإنجاز
action-status-done = منجز
action-status-blocked = متوقف
action-status-cancelled = ملغى
consultation-status-planned = مبرمجة
consultation-status-held = منعقدة
consultation-status-closed = مغلقة
consultation-status-cancelled = ملغاة
consultation-kind-regional-consultation = مشاورة جهوية
consultation-kind-workshop = ورشة
consultation-kind-bilateral-meeting = لقاء ثنائي
consultation-kind-working-meeting = اجتماع عمل
consultation-kind-signing-ceremony = حفل توقيع
consultation-kind-conference = مؤتمر
consultation-kind-other = أخرى
overdue-count = { $count ->
    [zero] لا إجراء متأخر
    [one] إجراء واحد متأخر
    [two] إجراءان متأخران
    [few] { $n } إجراءات متأخرة
    [many] { $n } إجراءً متأخرًا
   *[other] { $n } إجراء متأخر
}
reminders-due = { $count ->
    [zero] لا تتبع متأخر أو قريب الأجل
    [one] تتبع واحد متأخر أو قريب الأجل
    [two] تتبعان متأخران أو قريبا الأجل
    [few] { $n } تتبعات متأخرة أو قريبة الأجل
    [many] { $n } تتبعًا متأخرًا أو قريب الأجل
   *[other] { $n } تتبع متأخر أو قريب الأجل
}
# Recommendation themes (the domain's slugs; a theme without a message shows its slug).
theme-capacity-building = تقوية القدرات
theme-certification = الإشهاد
theme-commercial-diplomacy = الدبلوماسية الاقتصادية
theme-export-development = تنمية الصادرات
theme-export-promotion = إنعاش الصادرات
theme-governance = الحكامة
theme-international-relations = العلاقات الدولية
theme-made-in-morocco = صنع في المغرب
theme-management = التدبير
theme-market-access = الولوج إلى الأسواق
theme-market-intelligence = اليقظة التجارية
theme-quality-standards = معايير الجودة
theme-regulatory-framework = الإطار التنظيمي
theme-research = البحث العلمي
theme-target-markets = الأسواق المستهدفة
theme-training = التكوين
theme-university-involvement = انخراط الجامعة

# The follow-up board, an action's page, the reminders, and the reminder e-mails.
board-title = تتبع الإجراءات
board-read-only = قراءة فقط: لا يمكنك تعديل إجراءات هذه الجهة.
board-column-empty = لا يوجد أي إجراء.
board-column-count = { $count ->
    [zero] لا إجراء
    [one] إجراء واحد
    [two] إجراءان
    [few] { $n } إجراءات
    [many] { $n } إجراءً
   *[other] { $n } إجراء
}
board-overdue = متأخر
board-days-late = { $count ->
    [zero] متأخر اليوم
    [one] متأخر بيوم واحد
    [two] متأخر بيومين
    [few] متأخر بـ{ $n } أيام
    [many] متأخر بـ{ $n } يومًا
   *[other] متأخر بـ{ $n } يوم
}
board-due-in = { $count ->
    [zero] الأجل اليوم
    [one] الأجل بعد يوم واحد
    [two] الأجل بعد يومين
    [few] الأجل بعد { $n } أيام
    [many] الأجل بعد { $n } يومًا
   *[other] الأجل بعد { $n } يوم
}
board-due = الأجل
board-no-due = بدون أجل
board-owner = الجهة المسؤولة
board-progress = نسبة الإنجاز
board-truncated = لا تُعرض إلا أول { $n } إجراءات: اختر جهة.
board-open = فتح البطاقة
board-facts = بطاقة الإجراء
board-consultation = المشاورة
board-recommendations = التوصيات المتتبَّعة
board-status = الحالة
board-status-reason = سبب الحالة
board-description = الوصف
board-budget = الميزانية
board-region = الجهة
board-reports = تقارير التقدم
board-report-date = التاريخ
board-report-note = ملاحظة
board-report-reason = سبب التراجع
board-no-reports = لا توجد تقارير تقدم حتى الآن.
board-deadlines = سجل الآجال
board-deadline-initial = الأجل المحدد عند الإحداث: { $due }
board-no-deadline-change = لم يُمدَّد الأجل قط.
board-history = سجل التعديلات
board-history-when = التاريخ
board-history-what = التعديل
board-history-who = بواسطة
board-history-why = السبب
board-history-hidden = السجل المفصل (أصحاب التعديلات وأسبابها) متاح لمحرري الجهة وللمشرفين وللمدققين فقط.
board-event-action-created = إحداث الإجراء
board-event-progress-reported = تسجيل التقدم
board-event-action-status-changed = تغيير الحالة
board-event-action-reopened = إعادة فتح الإجراء
board-event-deadline-extended = تمديد الأجل
board-event-owner-reassigned = تغيير الجهة المسؤولة
board-event-budget-revised = مراجعة الميزانية
board-update = تحيين التتبع
board-finished = هذا الإجراء منجز أو ملغى: لا يمكن إلا إعادة فتحه.
board-form-progress = تسجيل التقدم
board-form-deadline = تمديد الأجل
board-form-owner = تغيير الجهة المسؤولة
board-form-start = وضعه قيد الإنجاز
board-form-block = الإبلاغ عن توقف
board-form-complete = تأكيد الإنجاز
board-form-cancel = إلغاء الإجراء
board-form-reopen = إعادة فتح الإجراء
board-field-on = تاريخ التقرير
board-field-progress = نسبة الإنجاز (من 0 إلى 100٪)
board-field-note = ملاحظة
board-field-progress-reason = السبب، إذا تراجعت نسبة الإنجاز
board-field-year = السنة
board-field-month = الشهر (من 1 إلى 12، اختياري)
board-field-day = اليوم (اختياري)
board-field-reason = السبب
board-field-owner = الجهة المسؤولة الجديدة
board-saved = تم حفظ التعديل.
board-conflict = عدّل شخص آخر هذا الإجراء منذ فتحك للاستمارة. هذه هي التغييرات؛ احتفظنا بما أدخلته: راجعه ثم احفظ من جديد لتطبيقه على النسخة الحالية.
board-back = العودة إلى لوحة التتبع
reminders-title = التذكيرات
reminders-intro = إجراءات غير منجزة متأخرة أو يحل أجلها خلال 30 يومًا المقبلة، في جهاتك.
reminders-overdue = متأخرة
reminders-due-soon = آجال خلال 30 يومًا
reminders-none-overdue = لا توجد إجراءات متأخرة.
reminders-none-due-soon = لا توجد آجال خلال 30 يومًا المقبلة.
remind-subject = { $count ->
    [zero] شورى: لا إجراء للتتبع
    [one] شورى: إجراء واحد للتتبع
    [two] شورى: إجراءان للتتبع
    [few] شورى: { $n } إجراءات للتتبع
    [many] شورى: { $n } إجراءً للتتبع
   *[other] شورى: { $n } إجراء للتتبع
}
remind-greeting = السلام عليكم { $name }،
remind-intro = هذه إجراءات التتبع المتأخرة أو التي يحل أجلها خلال 30 يومًا المقبلة.
remind-region = الجهة: { $region }
remind-overdue = متأخرة:
remind-due-soon = آجال خلال 30 يومًا:
remind-line = - { $title } | الأجل: { $due } | نسبة الإنجاز: { $progress }٪
remind-footer = رسالة آلية من شورى؛ المرجو عدم الرد عليها.

"""Changes to reference data go into the audit trail (ReferenceChange), wherever they are made:
the admin (AuditedAdmin), the controllers' pages and the API call `snapshot` before and
`record` after saving."""

from django.forms.models import model_to_dict

from .models import ReferenceChange
from .workflow import as_json

# Never copied into the trail, only noted as changed.
SECRET_FIELDS = {"password"}


def snapshot(instance):
    """The object's fields as the trail stores them ({} for an object not saved yet)."""
    if instance is None or instance.pk is None:
        return {}
    fresh = type(instance)._default_manager.filter(pk=instance.pk).first()
    if fresh is None:
        return {}
    # Secret fields are kept here only to see whether they changed; record() masks them.
    return {name: as_json(value) for name, value in model_to_dict(fresh).items()}


def record(actor, instance, before, deleted=False, pk=None):
    """Write what changed between `before` and now; nothing when nothing changed."""
    after = {} if deleted else snapshot(instance)
    changed = sorted(name for name in {*before, *after} if before.get(name) != after.get(name))
    if not changed:
        return None
    masked = dict.fromkeys(SECRET_FIELDS & set(changed), "(changed)")
    before = {**before, **masked} if before else before
    after = {**after, **masked} if after else after
    if deleted:
        action = ReferenceChange.Action.DELETED
    else:
        action = ReferenceChange.Action.CHANGED if before else ReferenceChange.Action.ADDED
    return ReferenceChange.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        model=instance._meta.label,
        object_id=str(pk or instance.pk),
        object_repr=str(instance)[:200],
        action=action,
        before={name: before.get(name) for name in changed} if before else None,
        after={name: after.get(name) for name in changed} if after else None,
    )


def record_added(actor, instances, many_to_many):
    """Many new objects at once (an import): one 'added' record each, inserted in batches.
    many_to_many: {instance: {field: [ids]}}, known to the caller (reading them back would be
    a query per object)."""
    changes = []
    for instance in instances:
        names = [f.name for f in instance._meta.concrete_fields if f.editable and not f.primary_key]
        after = {name: as_json(value) for name, value in model_to_dict(instance, names).items()}
        after.update(many_to_many.get(instance, {}))
        changes.append(
            ReferenceChange(
                actor=actor if getattr(actor, "pk", None) else None,
                model=instance._meta.label,
                object_id=str(instance.pk),
                object_repr=str(instance)[:200],
                action=ReferenceChange.Action.ADDED,
                before=None,
                after={name: after[name] for name in sorted(after)},
            )
        )
    ReferenceChange.objects.bulk_create(changes, batch_size=500)


class AuditedAdmin:
    """A ModelAdmin mixin: every add, change and delete (inlines included) is recorded."""

    def save_model(self, request, obj, form, change):
        # The state before this save; recorded once the many-to-many fields are saved too.
        form._reference_before = snapshot(obj)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        record(request.user, form.instance, getattr(form, "_reference_before", {}))

    def save_formset(self, request, form, formset, change):
        befores = {obj.pk: snapshot(obj) for obj in formset.get_queryset()}
        doomed = [(f.instance, f.instance.pk) for f in formset.deleted_forms if f.instance.pk]
        super().save_formset(request, form, formset, change)
        for obj in [*formset.new_objects, *(o for o, _fields in formset.changed_objects)]:
            record(request.user, obj, befores.get(obj.pk, {}))
        for obj, pk in doomed:
            record(request.user, obj, befores.get(pk, {}), deleted=True, pk=pk)

    def delete_model(self, request, obj):
        pk, before = obj.pk, snapshot(obj)
        super().delete_model(request, obj)
        record(request.user, obj, before, deleted=True, pk=pk)

    def delete_queryset(self, request, queryset):
        for obj in list(queryset):
            self.delete_model(request, obj)
